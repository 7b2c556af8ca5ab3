/* sipwall — events: the structured, explainable record of every decision,
 * and the sinks that store or export them.
 *
 * An sw_event is filled by whoever decides (today the malformed-message
 * check, later the policy engine and the detectors) and handed to a sink.
 * Its strings are views (sw_str) into the message being screened: the
 * event does not own them and they only need to live until sw_event_emit
 * returns.  Sinks copy, escape and bound everything they keep.
 *
 * Untrusted bytes.  Strings taken from messages may hold any byte (NUL,
 * CR/LF, invalid UTF-8).  Every sink applies the same rules (see
 * sw_event_sanitize): a value is cut to SW_EVENT_FIELD_MAX bytes (at a
 * UTF-8 character boundary), every byte that is not part of a well-formed
 * UTF-8 sequence (RFC 3629: no overlongs, no surrogates, nothing above
 * U+10FFFF) becomes U+FFFD, one U+FFFD per bad byte; NUL and control
 * characters stay and are escaped by the output format (\u0000, \r, \n in
 * JSON).  Cut fields are listed with their original byte length. */
#ifndef SIPWALL_EVENT_H
#define SIPWALL_EVENT_H

#include <stdio.h>

#include "sipwall/addr.h"
#include "sipwall/common.h"
#include "sipwall/vocab.h" /* event types, categories, actions */

/* ---- the event ----------------------------------------------------------- */
#define SW_EVENT_MAX_EVIDENCE 16  /* key/value pairs per event */
#define SW_EVENT_FIELD_MAX 256    /* bytes kept of any string value */

#define SW_EVENT_ID_LEN 37        /* a UUID in text, and its NUL */
#define SW_EVENT_INCIDENT_LEN 17  /* 16 hex digits, and its NUL */

typedef enum sw_evidence_kind { SW_EVIDENCE_NUM = 1, SW_EVIDENCE_STR = 2 } sw_evidence_kind;

typedef struct sw_evidence {
    const char *key; /* static ASCII identifier chosen by the code, e.g. "offset" */
    uint8_t kind;    /* sw_evidence_kind */
    int64_t num;
    sw_str str;      /* untrusted bytes allowed */
} sw_evidence;

typedef struct sw_event {
    int64_t ts_ns;          /* when the message was seen, ns since the Unix epoch */
    sw_event_type type;
    sw_category category;
    sw_action action;
    uint16_t action_status; /* SIP status sent with SW_ACTION_REJECT; 0 = none */
    uint8_t confidence;     /* 0..100 (values above 100 are written as 100) */
    uint8_t monitor;        /* 1: a monitor-only rule hit; the action is what
                             * enforcement would have done ("mode":"monitor") */
    uint8_t passive;        /* 1: the message was only observed (sipwall check, a
                             * passive or sensor/HEP sipwalld): nothing could be
                             * enforced, the action is what inline would have done
                             * ("mode":"passive"; wins over monitor) */
    int64_t expires_ns;     /* a block set by this decision ends then; 0 = none */
    const char *rule;       /* static rule id, e.g. "sip.malformed" (required) */
    sw_str reason;          /* human explanation; may quote message bytes */

    sw_str peer;            /* the partner the policy identified ("peer"); empty = none */
    sw_str listener;        /* sipwalld: the name of the listener the message came in
                             * on ("listener"); empty = none (captures) */
    char event_id[SW_EVENT_ID_LEN];       /* unique id ("event_id"); "" = none */
    char incident_id[SW_EVENT_INCIDENT_LEN]; /* the episode it belongs to ("incident_id"); "" = none */
    sw_addr src, dst;       /* family 0 = unknown (field left out) */
    sw_transport transport;

    /* The message: a request has method, a response status (0 = neither). */
    sw_str method;
    uint16_t status;
    sw_str call_id;
    sw_str from, to, pai;   /* numbers (URI user part) when there is one, else the URI */
    sw_str ruri;            /* request-URI user part when there is one, else the URI */

    uint64_t frame;         /* capture mode: 1-based frame number; 0 = not from a capture */
    sw_str file;            /* capture file, set when several are screened; empty = none */

    uint8_t nevidence;
    sw_evidence evidence[SW_EVENT_MAX_EVIDENCE];
} sw_event;

/* Resets *ev to an empty event of the given type, category and rule; the
 * action is SW_ACTION_TAG and the confidence 100 until set otherwise. */
void sw_event_init(sw_event *ev, sw_event_type type, sw_category cat, const char *rule)
    SW_NONNULL(1, 4);

/* Event ids: UUIDv7 (RFC 9562 §5.7) text, "0191c2a4-7b3e-7d21-8f00-0000000a1b2c".
 * The 48-bit time is the event's (ms since 1970), the 74 random bits are a
 * 42-bit node drawn from the kernel's random source when the generator is
 * made, then a 32-bit counter.  One generator per thread (workers, the
 * pipeline's writer, one `sipwall check`): ids of one generator never
 * repeat (the counter), and two generators (two workers, or two runs of the
 * daemon on one store) collide only if their nodes do, one chance in 2^42
 * per pair; no state survives a restart and none needs to. */
typedef struct sw_event_ids {
    uint64_t node;  /* 42 bits */
    uint32_t seq;
} sw_event_ids;

/* Draws a new node (getrandom(2); the time and the address of g when that
 * fails) and resets the counter. */
void sw_event_ids_init(sw_event_ids *g) SW_NONNULL(1);
/* Writes the next id for an event at ts_ns (clamped to 0 .. 2^48-1 ms)
 * into out (SW_EVENT_ID_LEN bytes, NUL-terminated). */
void sw_event_id_next(sw_event_ids *g, int64_t ts_ns, char out[SW_EVENT_ID_LEN]) SW_NONNULL(1, 3);

/* Appends evidence.  key must be a static NUL-terminated identifier; str is
 * a view that must live until the event is emitted.  Returns SW_OK, or
 * SW_ELIMIT when SW_EVENT_MAX_EVIDENCE pairs are already there (the pair is
 * then not added; events stay bounded). */
int sw_event_add_num(sw_event *ev, const char *key, int64_t value) SW_NONNULL(1, 2);
int sw_event_add_str(sw_event *ev, const char *key, sw_str value) SW_NONNULL(1, 2);

/* Formats ts_ns as RFC 3339 UTC with milliseconds, "2026-11-24T10:00:00.123Z"
 * (rounded down; times before 1970 allowed).  buf needs SW_EVENT_TS_LEN
 * bytes.  Returns the length written, or SW_ELIMIT / SW_ERANGE. */
#define SW_EVENT_TS_LEN 32
int sw_event_format_ts(int64_t ts_ns, char *buf, size_t len) SW_NONNULL(2);

/* Makes untrusted bytes safe for text output (rules in the file comment):
 * writes at most min(in.len, max) input bytes' worth of valid UTF-8 to out,
 * which needs 3 * max bytes (every bad byte may become the 3-byte U+FFFD).
 * Returns the bytes written; *truncated is set when in.len > max.  Does not
 * NUL-terminate (NUL bytes in the input are kept). */
size_t sw_event_sanitize(sw_str in, size_t max, char *out, int *truncated) SW_NONNULL(3, 4);

/* The event as one JSON object on one line (no trailing newline), field
 * names as in DESIGN.md "Interfaces":
 *   ts [event_id] [incident_id] event_type category rule action [action_status]
 *   mode reason confidence [expires]
 *   [peer] [listener] [src dst] transport [method | status] [call_id from to pai ruri]
 *   [frame] [file] [evidence{}] [truncated{field: original_bytes}]
 * Bracketed fields are left out when empty/zero.  Returns a malloc'd
 * NUL-terminated string (free() it) and its length in *len, or NULL when
 * memory runs out. */
char *sw_event_json(const sw_event *ev, size_t *len) SW_WUR SW_NONNULL(1);

/* ---- sinks -----------------------------------------------------------------
 * A sink is one backend (JSON lines today; SQLite, syslog/TLS, Redis next)
 * behind this small interface.  Backends embed sw_event_sink as their first
 * member and provide the three operations; callers use only the wrappers. */
typedef struct sw_event_sink sw_event_sink;
typedef struct sw_event_rec sw_event_rec; /* a serialised event (below) */

typedef struct sw_event_sink_ops {
    const char *name; /* "jsonl", … */
    /* Store or queue one event.  SW_OK or a negative SW_E*. */
    int (*emit)(sw_event_sink *s, const sw_event *ev);
    /* Push queued events to their destination.  SW_OK or SW_EIO. */
    int (*flush)(sw_event_sink *s);
    /* Flush, release everything, free s.  Returns the flush's result. */
    int (*close)(sw_event_sink *s);
    /* Optional (NULL = cannot): reopen the destination by its name, e.g. a
     * log file that logrotate moved away.  SW_OK, or a negative SW_E* with
     * the sink still writing where it wrote before. */
    int (*reopen)(sw_event_sink *s);
    /* Optional (NULL = cannot): store n records that are already
     * serialised (sw_event_rec, below); what the event pipeline's writer
     * uses.  SW_OK when all were stored, else a negative SW_E*.  The sink
     * itself counts the records it stored in emitted and those it lost in
     * failed (sw_event_emit's counting does not apply). */
    int (*write_recs)(sw_event_sink *s, const sw_event_rec *recs, size_t n);
} sw_event_sink_ops;

struct sw_event_sink {
    const sw_event_sink_ops *ops;
    uint64_t emitted; /* events accepted by emit */
    uint64_t failed;  /* emits that returned an error */
};

int sw_event_emit(sw_event_sink *s, const sw_event *ev) SW_NONNULL(1, 2);
int sw_event_sink_flush(sw_event_sink *s) SW_NONNULL(1);
/* ops->reopen, or SW_EUSAGE when the sink has none. */
int sw_event_sink_reopen(sw_event_sink *s) SW_NONNULL(1);
/* NULL is allowed (does nothing, returns SW_OK). */
int sw_event_sink_close(sw_event_sink *s);

/* JSON-lines file sink: one sw_event_json object per line, written through a
 * 64 KiB buffer; sw_event_sink_flush / close push it out.  path "-" means
 * stdout (flushed at close, never closed).  The file is created or
 * truncated with mode 0640 (events can hold subscriber numbers).  On failure
 * returns NULL with a message in errbuf. */
sw_event_sink *sw_jsonl_sink_open(const char *path, char *errbuf, size_t errlen)
    SW_WUR SW_NONNULL(1);
/* The same over an open stream; closes it at sink close when owns != 0.
 * Both have write_recs (lines through the stdio buffer) but no reopen. */
sw_event_sink *sw_jsonl_sink_new(FILE *fp, int owns) SW_WUR SW_NONNULL(1);

/* The JSON-lines log a daemon appends to (defects R2, R3, R5, R6):
 * - opened O_APPEND|O_CREAT|O_NOFOLLOW|O_CLOEXEC, mode 0640: never
 *   truncated, a symlink at path is refused;
 * - unbuffered: each emit, and each write_recs batch, is one write(2) of
 *   whole lines (a batch larger than 64 KiB is split, at line ends);
 * - a short write (disk full, file size limit) is undone: the file is
 *   truncated back to the last whole line, the lost events are counted in
 *   base.failed and the call returns SW_EIO;
 * - at open, a last line without its newline (a process killed in the
 *   middle of a write) is cut off; its size is reported by
 *   sw_jsonl_sink_repaired;
 * - reopen (sw_event_sink_reopen) opens path again (after logrotate moved
 *   it), keeping the old file when that fails.
 * NULL with a reason in errbuf. */
sw_event_sink *sw_jsonl_sink_open_append(const char *path, char *errbuf, size_t errlen)
    SW_WUR SW_NONNULL(1);
/* Bytes of torn last lines cut off by sw_jsonl_sink_open_append and its
 * reopens; 0 for other sinks. */
uint64_t sw_jsonl_sink_repaired(const sw_event_sink *s) SW_NONNULL(1);

/* ---- records ---------------------------------------------------------------
 * An event serialised once, owned, with the fields the store indexes copied
 * out: what the pipeline queues and the store keeps. */
#define SW_EVENT_REC_NAME_MAX 64 /* bytes kept of the peer and rule names (+ NUL) */

struct sw_event_rec {
    int64_t ts_ns;
    sw_event_type type;
    char src[SW_ADDR_STRLEN];         /* source IP, no port ("" = unknown) */
    char peer[SW_EVENT_REC_NAME_MAX]; /* sanitised, "" = none */
    char rule[SW_EVENT_REC_NAME_MAX];
    char incident[SW_EVENT_INCIDENT_LEN]; /* the event's incident_id, "" = none */
    char *json;                       /* sw_event_json's text, malloc'd, owned */
    size_t json_len;
};

/* Serialises ev into *r (r's previous content is not freed).  SW_OK or
 * SW_ENOMEM (r then holds no JSON). */
int sw_event_rec_fill(sw_event_rec *r, const sw_event *ev) SW_WUR SW_NONNULL(1, 2);
/* Frees r->json and empties r. */
void sw_event_rec_clear(sw_event_rec *r) SW_NONNULL(1);

/* ---- the event store -------------------------------------------------------
 * SQLite in WAL mode with synchronous=FULL: when sw_event_store_append
 * returns SW_OK the events are committed and survive a kill -9 of the
 * process and a power loss (NORMAL would survive the kill only).  Schema
 * and retention: docs/events.md.  A handle is used by one thread at a
 * time; any number of handles on one file may exist (one writer).  Open
 * handles in the process that uses them (never carry one across fork());
 * a writer's open creates the -wal and -shm files at once, so a daemon
 * that drops privileges after opening keeps working. */
typedef struct sw_event_store sw_event_store;

typedef struct sw_event_store_opts {
    int64_t max_age_s;    /* retention by age; 0 = keep */
    int64_t max_bytes;    /* retention by size of the database; 0 = unbounded */
    uint8_t readonly;     /* query/exporter handles */
    uint8_t sync_normal;  /* 1: synchronous=NORMAL (benchmarks only: not power-safe) */
    int64_t max_pages;    /* > 0: PRAGMA max_page_count (a hard ceiling; tests use it
                           * to simulate a full disk) */
} sw_event_store_opts;

/* Opens (creates, unless readonly) the store at path.  o may be NULL
 * (defaults: keep everything).  NULL with a reason in err. */
sw_event_store *sw_event_store_open(const char *path, const sw_event_store_opts *o, char *err,
                                    size_t errlen) SW_WUR SW_NONNULL(1);
void sw_event_store_close(sw_event_store *s);

/* Appends n records in one transaction.  SW_OK means committed
 * ("acknowledged"); SW_EIO (disk full, I/O error, store busy beyond the
 * busy timeout) means none of them is stored and nothing committed before
 * is lost; SW_EUSAGE on a readonly handle.  Ids are given in order. */
int sw_event_store_append(sw_event_store *s, const sw_event_rec *recs, size_t n) SW_NONNULL(1);

typedef struct sw_event_row {
    int64_t id;           /* increasing, never reused */
    int64_t ts_ns;
    const char *json;     /* the event as sw_event_json writes it (one JSON object, no
                           * newline); valid during the callback */
    size_t json_len;
} sw_event_row;

/* Calls cb for rows with id > after, in id order, at most max rows (one
 * read transaction; SIZE_MAX = all).  cb returns 0 to go on, non-zero to
 * stop.  Returns the number of rows passed to cb, or a negative SW_E*.
 * The read transaction holds back WAL checkpoints while it lasts: copy
 * rows and send them after the scan, never block inside cb (exporters
 * scan in windows of a few hundred rows). */
int sw_event_store_scan(sw_event_store *s, int64_t after, size_t max,
                        int (*cb)(void *arg, const sw_event_row *row), void *arg) SW_NONNULL(1, 4);

/* The largest id handed out so far: 0 when no event was ever stored (it
 * does not go down when retention deletes rows); < 0 SW_E*. */
int64_t sw_event_store_last_id(sw_event_store *s) SW_NONNULL(1);

/* Named cursors persisted in the same database (exporters keep their
 * position there).  get: SW_ENOTFOUND when never set.  set: SW_EUSAGE on
 * a readonly handle, SW_EIO when it cannot be committed. */
int sw_event_store_cursor_get(sw_event_store *s, const char *name, int64_t *id)
    SW_NONNULL(1, 2, 3);
int sw_event_store_cursor_set(sw_event_store *s, const char *name, int64_t id) SW_NONNULL(1, 2);

/* A query for `sipwall events`.  Every filter is optional (0 / NULL = any);
 * strings match exactly (src: an IP address, compared in canonical form,
 * "2001:DB8::1" finds 2001:db8::1; type: a wire name, sw_event_type_name). */
typedef struct sw_event_query {
    int64_t since_ns;     /* ts_ns >= since_ns (0 = no bound) */
    int64_t until_ns;     /* ts_ns < until_ns (0 = no bound) */
    const char *type;
    const char *src;
    const char *peer;
    const char *rule;
    const char *incident; /* incident_id (schema 2 stores only) */
    const char *mode;     /* "enforce", "monitor" or "passive" (read from the JSON: no index) */
    int64_t after_id;     /* id > after_id (following: the last id seen) */
    size_t limit;         /* at most this many rows; 0 = all */
    uint8_t newest;       /* with limit: the newest `limit` matches (still in id order) */
} sw_event_query;

/* Calls cb for each matching row in id order (one read transaction); cb
 * returns non-zero to stop.  Returns the number of rows passed to cb,
 * SW_EINVAL for a src that is not an IP address, or a negative SW_E*. */
int sw_event_store_query(sw_event_store *s, const sw_event_query *q,
                         int (*cb)(void *arg, const sw_event_row *row), void *arg)
    SW_NONNULL(1, 2, 3);

/* A time as an operator writes it (`sipwall events --since`, the admin
 * API's events query): RFC 3339 ("2026-12-07T10:00:00Z",
 * "2026-12-07T10:00:00.250+01:00"; 't', 'z' and a blank for 'T'
 * accepted), a date alone ("2026-12-07", midnight UTC), "now", or relative
 * to now_ns: "-90s", "-10m", "-2h", "-1d", "-1w" (a minus sign, digits, one
 * unit; at most SW_EVENT_TIME_MAX_RELATIVE_S back).  SW_OK with *out in
 * ns since the epoch, or SW_EINVAL with a message in err. */
#define SW_EVENT_TIME_MAX_RELATIVE_S (100LL * 366 * 86400) /* a century back: enough for any store */
int sw_event_parse_time(const char *s, int64_t now_ns, int64_t *out, char *err, size_t errlen)
    SW_NONNULL(1, 3, 4);

/* Applies retention now: deletes the oldest rows (in chunks) older than
 * max_age_s before now_ns, then while the database's used size
 * (page_count - freelist_count pages) is above max_bytes, down to 90% of
 * it; freed pages are returned to the file system (incremental vacuum).
 * Returns the rows deleted or a negative SW_E*.  The pipeline's writer
 * calls it every few seconds, never per event. */
int64_t sw_event_store_retain(sw_event_store *s, int64_t now_ns) SW_NONNULL(1);

/* Used bytes of the database ((page_count - freelist_count) * page_size),
 * or a negative SW_E*. */
int64_t sw_event_store_size(sw_event_store *s) SW_NONNULL(1);
/* SQLite's message for the last failure on this handle ("" when none).
 * Only from the thread that uses the handle (for a store the pipeline's
 * writer uses, see sw_event_pipeline_last_error). */
const char *sw_event_store_error(const sw_event_store *s) SW_NONNULL(1);

/* ---- the event pipeline ----------------------------------------------------
 * Workers hand events to the pipeline through producer sinks, one per
 * worker; one writer thread stores them.
 *
 * A producer's emit serialises the event once (sw_event_rec) and puts it
 * on the producer's own bounded queue (a single-producer ring: no lock in
 * the common case; the writer is woken only when it sleeps).  It never
 * blocks: when the queue holds queue_records records or queue_bytes bytes
 * of JSON, the event is dropped, counted (stats.dropped) and emit returns
 * SW_ELIMIT.  The writer drains every queue in batches of at most
 * batch_max records: a batch is appended to the store in one transaction
 * (committed = written), then handed to every sink's write_recs (the
 * JSON-lines file).  A failed append is retried every retry_ms with the
 * same batch (nothing is reordered or lost; the queues fill meanwhile and
 * drop, counted).  Drops are also reported in the event stream: at most
 * once a second the writer adds an event_loss/system event, rule
 * "sipwall.events_dropped", whose evidence says how many were dropped. */
typedef struct sw_event_pipeline sw_event_pipeline;

typedef struct sw_event_pipeline_opts {
    unsigned producers;        /* queues, one per worker: 1..1024 */
    size_t queue_records;      /* ceiling per queue (rounded up to a power of two); 0 = 4096 */
    size_t queue_bytes;        /* ceiling on the JSON bytes held per queue; 0 = 8 MiB */
    size_t batch_max;          /* records per batch (one store transaction); 0 = 1024 */
    unsigned wait_ms;          /* the writer's longest sleep; 0 = 50 */
    unsigned retry_ms;         /* pause before retrying a failed append; 0 = 1000 */
    unsigned retain_every_s;   /* sw_event_store_retain interval; 0 = 10 */
    unsigned close_timeout_ms; /* sw_event_pipeline_free keeps retrying this long; 0 = 5000 */
    sw_event_store *store;     /* may be NULL; borrowed, used only by the writer thread
                                * until sw_event_pipeline_free returns */
    sw_event_sink *const *sinks; /* borrowed likewise; each must have write_recs */
    size_t nsinks;
} sw_event_pipeline_opts;

typedef struct sw_event_pipeline_stats {
    uint64_t enqueued;      /* events accepted by the producers */
    uint64_t dropped;       /* events refused: a full queue, or no memory to serialise */
    uint64_t written;       /* records stored (committed when there is a store) */
    uint64_t write_errors;  /* failed store appends (their batch was retried) */
    uint64_t sink_errors;   /* records a sink's write_recs lost */
    uint64_t batches;       /* batches stored */
    uint64_t max_depth;     /* most records one queue ever held */
    uint64_t queued;        /* records in the queues now */
    uint64_t summaries;     /* event_loss events the writer added */
    uint64_t reopens;       /* sink reopens done / failed */
    uint64_t reopen_errors;
    uint64_t retained;      /* rows deleted by retention */
    uint64_t abandoned;     /* accepted, never stored: the store still failed at free */
} sw_event_pipeline_stats;

/* Allocates every queue (the ceilings are fixed here) and starts the
 * writer thread (all signals blocked in it; create the pipeline after any
 * fork(), e.g. after daemonising).  Give every thread that emits its own
 * producer (the workers, and the control thread if it emits).  NULL with a reason in err
 * on bad options, a sink without write_recs, or no memory/thread. */
sw_event_pipeline *sw_event_pipeline_new(const sw_event_pipeline_opts *o, char *err,
                                         size_t errlen) SW_WUR SW_NONNULL(1);

/* The sink of producer i (< producers), owned by the pipeline: at most one
 * thread emits through it at a time.  Its flush does nothing (see
 * sw_event_pipeline_flush) and its close does nothing (the pipeline frees
 * it).  NULL when i is out of range. */
sw_event_sink *sw_event_pipeline_producer(sw_event_pipeline *p, unsigned i) SW_NONNULL(1);

/* Waits until every event accepted before the call has been stored (or
 * abandoned), at most timeout_ms.  SW_OK, or SW_EAGAIN on timeout (e.g.
 * while the store fails).  Never call it from a producer's hot path. */
int sw_event_pipeline_flush(sw_event_pipeline *p, unsigned timeout_ms) SW_NONNULL(1);

/* Asks the writer to reopen every sink that can (sw_event_sink_reopen)
 * between two batches, e.g. on SIGHUP after logrotate.  Returns at once;
 * the outcome shows in stats.reopens / reopen_errors. */
void sw_event_pipeline_reopen(sw_event_pipeline *p) SW_NONNULL(1);

/* The writer's last failure ("store: SQLITE message", "reopen NAME
 * failed"), "" when none, copied into buf (NUL-terminated, cut to len);
 * safe from any thread. */
void sw_event_pipeline_last_error(sw_event_pipeline *p, char *buf, size_t len) SW_NONNULL(1, 2);

/* A snapshot of the counters; safe from any thread. */
void sw_event_pipeline_stats_get(sw_event_pipeline *p, sw_event_pipeline_stats *out)
    SW_NONNULL(1, 2);

/* Stops accepting, writes everything accepted (retrying a failing store up
 * to close_timeout_ms), stops the writer and frees the queues and the
 * producer sinks (not the store or the sinks).  Emitting concurrently is
 * not allowed.  SW_OK when everything accepted was stored, SW_EIO when
 * some was abandoned (counted in the last stats; *final may be NULL). */
int sw_event_pipeline_free(sw_event_pipeline *p, sw_event_pipeline_stats *final);

/* ==== export to a SIEM (branch export; docs/export.md) ======================
 * Formatters: a stored event (the JSON row sw_event_json wrote, with its
 * store id and time) becomes one RFC 5424 syslog message, carrying the
 * fields as structured data, a CEF record or an ECS-shaped JSON document.
 * They are pure functions: no allocation visible to the caller, no I/O,
 * no globals; the row is treated as untrusted text. */

/* Structured-data ID of our fields: the documentation PEN of RFC 5612
 * until one is registered. */
#define SW_SYSLOG_SD_ID "sipwall@32473"
/* Largest message written, in octets (RFC 5425 §4.3.1: receivers SHOULD
 * take 8192).  An event that does not fit is written with its values cut
 * shorter (the message then says cut="1"). */
#define SW_SYSLOG_MAX_MSG 8192
/* "LEN SP" in front of a message (RFC 5425 §4.3 octet counting). */
#define SW_SYSLOG_FRAME_HDR 12

typedef enum sw_export_format {
    SW_EXPORT_RFC5424 = 0, /* fields in [sipwall@32473 …], MSG = the reason */
    SW_EXPORT_CEF = 1,     /* MSG = one CEF:0 record */
    SW_EXPORT_ECS = 2,     /* MSG = one ECS-shaped JSON object */
} sw_export_format;

/* "rfc5424", "cef", "ecs"; NULL out of range.  lookup: SW_ENOTFOUND. */
const char *sw_export_format_name(sw_export_format f);
int sw_export_format_lookup(const char *name, sw_export_format *out) SW_WUR SW_NONNULL(1, 2);

typedef struct sw_syslog_opts {
    sw_export_format format;
    unsigned facility;    /* 0..23; RFC 5424 §6.2.1 (16 = local0) */
    const char *hostname; /* HOSTNAME; NULL or "" = "-" (the NILVALUE) */
    const char *app_name; /* NULL = "sipwalld" */
    long procid;          /* <= 0 = "-" */
    const char *version;  /* product version for CEF; NULL = "0" */
} sw_syslog_opts;

/* The syslog severity (RFC 5424 §6.2.1, 0..7) of an event, from its action
 * and category (docs/export.md "Severity"):
 *   drop, reject                -> 4 warning
 *   rate-limit, strip, rewrite  -> 5 notice
 *   tag, allow, anything else   -> 6 informational
 * one step more severe (3 error, 4, 5) for category cat3 and behavioural
 * (an attack in progress rather than a malformed or non-compliant
 * message); monitor mode does not change it.  NULL strings are "unknown". */
unsigned sw_syslog_severity(const char *action, const char *category);

/* RFC 5424 §7.3.1 sequenceId (1..2147483647) of store id (>= 1): ids
 * 1..2^31-1 map to themselves, then it wraps to 1: ((id - 1) mod (2^31-1)) + 1. */
int64_t sw_syslog_sequence_id(int64_t id);

/* Formats the stored event (json/json_len: one JSON object as
 * sw_event_json writes it; id: its store id; ts_ns: its time) as one
 * RFC 5424 message into buf (cap bytes; at least SW_SYSLOG_MAX_MSG makes
 * every event fit).  Not NUL-terminated.  Returns the length, or
 * SW_EINVAL when json is not a JSON object, SW_ELIMIT when even the
 * shortest form does not fit in cap, SW_ENOMEM. */
int sw_syslog_format(const sw_syslog_opts *o, int64_t id, int64_t ts_ns, const char *json,
                     size_t json_len, char *buf, size_t cap) SW_WUR SW_NONNULL(1, 4, 6);

/* Octet-counting frame (RFC 5425 §4.3, RFC 6587 §3.4.1): writes "LEN " and
 * the message into out.  Returns the frame length or SW_ELIMIT (cap too
 * small).  msg and out may not overlap. */
int sw_syslog_frame(const char *msg, size_t len, char *out, size_t cap) SW_WUR SW_NONNULL(1, 3);

/* ---- the exporter: one thread per configured collector --------------------
 * Reads the event store with its own handle from a named cursor, sends
 * each event as one framed message over TLS (RFC 5425) or DTLS (RFC 6012),
 * and moves the cursor only after the writes succeeded.  See export.c. */
typedef struct sw_exporter sw_exporter;

typedef enum sw_export_transport { SW_EXPORT_TLS = 0, SW_EXPORT_DTLS = 1 } sw_export_transport;

typedef struct sw_exporter_conf {
    const char *name;        /* cursor name "export:NAME" in the store; 1..31 chars */
    const char *store;       /* event store path */
    sw_export_transport transport;
    const char *host;        /* collector address or name */
    uint16_t port;
    const char *ca, *cert, *key; /* collector CA; our client certificate and key */
    const char *server_name; /* name the collector's certificate must carry; NULL = host */
    sw_syslog_opts syslog;   /* format, facility, hostname, … */
    unsigned window;         /* events resent after every (re)connect; default 64 */
    unsigned batch;          /* events per write and per cursor update; default 256 */
    unsigned backoff_min_ms; /* reconnect delay, doubled per failure; default 250 */
    unsigned backoff_max_ms; /* its cap; default 30000; the delay is jittered by ±25 % */
    unsigned dtls_rekey_s;   /* DTLS: a new session after this long; default 10 */
    unsigned dtls_rekey_records; /* … or this many records; default 50000 */
    unsigned dtls_rate;      /* DTLS: at most this many records per second; default 5000 */
    unsigned poll_ms;        /* store poll interval when idle; default 50 */
    /* Log hook for the exporter thread (rate-limited by the exporter);
     * NULL = stderr.  level: 0 error, 1 warning, 2 info, 3 debug. */
    void (*log)(void *arg, int level, const char *msg);
    void *log_arg;
} sw_exporter_conf;

typedef struct sw_exporter_stats {
    uint64_t sent;               /* messages written (first sends and resends) */
    uint64_t duplicates;         /* of them, resent (ids written before) */
    uint64_t reconnects;         /* sessions set up after the first */
    uint64_t connect_failures;   /* TCP/UDP connect or I/O errors before a session */
    uint64_t handshake_failures; /* TLS/DTLS handshakes that failed (either side's certificate) */
    uint64_t write_failures;     /* sessions lost while sending */
    uint64_t format_errors;      /* rows that could not be formatted (skipped, counted) */
    int64_t cursor;              /* acked by cursor: last id known written */
    int64_t last_id;             /* last id in the store when last looked */
    int64_t behind;              /* last_id - cursor */
    uint8_t connected;
} sw_exporter_stats;

/* Checks c, copies what it needs (strings included) and loads the
 * certificates.  Does not connect.  NULL with a reason in err. */
sw_exporter *sw_exporter_new(const sw_exporter_conf *c, char *err, size_t errlen) SW_WUR
    SW_NONNULL(1);
/* Opens the exporter's handle on its store now, from the calling thread:
 * a daemon does this before it drops privileges, since the store may sit
 * in a directory only root can enter.  Optional: the thread opens the
 * store itself (and retries every second) when it is not open yet.
 * SW_OK, or SW_EIO with a reason in err. */
int sw_exporter_open_store(sw_exporter *e, char *err, size_t errlen) SW_NONNULL(1);
/* Starts the thread.  SW_OK or SW_EIO. */
int sw_exporter_start(sw_exporter *e) SW_NONNULL(1);
/* Asks the thread to stop and waits for it: up to a second for the
 * collector's TCP to acknowledge what is in flight, about as long again
 * when a write is blocked; persists the cursor.  Safe without start. */
void sw_exporter_stop(sw_exporter *e) SW_NONNULL(1);
void sw_exporter_free(sw_exporter *e);
/* A consistent-enough snapshot of the counters (each read atomically). */
void sw_exporter_get_stats(const sw_exporter *e, sw_exporter_stats *out) SW_NONNULL(1, 2);
const char *sw_exporter_name(const sw_exporter *e) SW_NONNULL(1);
/* ==== end of export section ================================================= */

#endif
