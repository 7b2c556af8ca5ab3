/* libFuzzer target: an event whose strings are untrusted bytes, serialised
 * once into a record (sw_event_rec_fill), kept in the event store and read
 * back (sw_event_store_scan) as `sipwall events` and the exporters do.
 *
 * Input: byte 0 picks type, category, action and mode, bytes 1..8 the
 * timestamp; the rest is split at 0x1f into reason, peer, rule, method,
 * Call-ID, From, To, PAI, R-URI, file and three evidence values.
 *
 * Checks beyond ASan/UBSan: the JSON is one line (no raw CR/LF), its length
 * is exact, it parses as one object with unique keys (jansson needs
 * JSON_ALLOW_NUL: NUL bytes of a message are kept, escaped as \u0000); "peer" is there iff
 * the event names one; the record's indexed names are NUL-terminated,
 * bounded and already sanitised; what the store gives back is byte for
 * byte what was stored. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "sipwall/event.h"

#define FZ_CHECK(cond)                                                                      \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "fuzz: contract broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

static sw_event_store *store;
static char store_path[64];
static unsigned inputs;

static void cleanup(void)
{
    char p[96];
    sw_event_store_close(store);
    store = NULL;
    unlink(store_path);
    snprintf(p, sizeof p, "%s-wal", store_path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", store_path);
    unlink(p);
}

static void open_store(void)
{
    snprintf(store_path, sizeof store_path, "/tmp/sw_fuzz_event_%ld.db", (long)getpid());
    unlink(store_path);
    sw_event_store_opts o = {.sync_normal = 1, .max_bytes = 4 << 20};
    char err[256];
    store = sw_event_store_open(store_path, &o, err, sizeof err);
    if (!store) {
        fprintf(stderr, "fuzz_event: %s\n", err);
        abort();
    }
    atexit(cleanup);
}

/* A name as the store keeps it: NUL-terminated, bounded, and unchanged by
 * sanitising again (valid UTF-8 only). */
static void check_name(const char *n)
{
    size_t len = strnlen(n, SW_EVENT_REC_NAME_MAX);
    FZ_CHECK(len < SW_EVENT_REC_NAME_MAX);
    char again[3 * SW_EVENT_REC_NAME_MAX];
    int cut;
    size_t k = sw_event_sanitize(sw_str_make(n, len), SW_EVENT_REC_NAME_MAX, again, &cut);
    FZ_CHECK(!cut && k == len && memcmp(again, n, len) == 0);
}

typedef struct got {
    const sw_event_rec *want;
    int rows;
} got;

static int compare(void *arg, const sw_event_row *row)
{
    got *g = arg;
    FZ_CHECK(row->json != NULL);
    FZ_CHECK(row->json_len == g->want->json_len);
    FZ_CHECK(memcmp(row->json, g->want->json, row->json_len) == 0);
    FZ_CHECK(row->ts_ns == g->want->ts_ns);
    g->rows++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store)
        open_store();
    sw_event ev;
    uint8_t b0 = size ? data[0] : 0;
    int64_t ts = 0;
    for (size_t i = 1; i < 9 && i < size; i++)
        ts = (int64_t)((uint64_t)ts << 8 | data[i]);
    /* the fields */
    sw_str f[13];
    memset(f, 0, sizeof f);
    size_t nf = 0, start = size < 9 ? size : 9;
    for (size_t i = start; i <= size && nf < 13; i++) {
        if (i == size || data[i] == 0x1f) {
            f[nf++] = sw_str_make((const char *)data + start, i - start);
            start = i + 1;
        }
    }
    char rule[128];
    snprintf(rule, sizeof rule, "%.*s", (int)(f[2].len < 127 ? f[2].len : 127),
             f[2].ptr ? f[2].ptr : "");
    sw_event_init(&ev, (sw_event_type)(b0 % (SW_EVT__COUNT + 1)),
                  (sw_category)((b0 >> 4) % (SW_CAT__COUNT + 1)), rule);
    ev.action = (sw_action)((b0 >> 2) % (SW_ACTION__COUNT + 1));
    ev.monitor = b0 & 1;
    ev.ts_ns = ts;
    ev.confidence = b0;
    ev.reason = f[0];
    ev.peer = f[1];
    ev.method = f[3];
    ev.status = (uint16_t)(b0 * 3);
    ev.call_id = f[4];
    ev.from = f[5];
    ev.to = f[6];
    ev.pai = f[7];
    ev.ruri = f[8];
    ev.file = f[9];
    ev.src.family = (b0 & 2) ? 6 : 4;
    memcpy(ev.src.ip, data + (size > 16 ? size - 16 : 0), size >= 16 ? 16 : 0);
    /* the truth fields: a listener, an incident of any bytes, an id */
    ev.listener = f[10];
    ev.passive = (uint8_t)(b0 >> 7);
    memcpy(ev.incident_id, f[11].ptr ? f[11].ptr : "",
           f[11].len < SW_EVENT_INCIDENT_LEN - 1 ? f[11].len : SW_EVENT_INCIDENT_LEN - 1);
    static sw_event_ids ids;
    if (!ids.node)
        sw_event_ids_init(&ids);
    sw_event_id_next(&ids, ts, ev.event_id);
    (void)sw_event_add_str(&ev, "a", f[10]);
    (void)sw_event_add_str(&ev, "b", f[11]);
    (void)sw_event_add_str(&ev, "a", f[12]); /* a repeated key */
    (void)sw_event_add_num(&ev, "n", ts);

    sw_event_rec r;
    if (sw_event_rec_fill(&r, &ev) != SW_OK)
        return 0; /* no memory: nothing else to check */
    FZ_CHECK(r.json && r.json_len == strlen(r.json));
    FZ_CHECK(!memchr(r.json, '\n', r.json_len) && !memchr(r.json, '\r', r.json_len));
    json_error_t err;
    /* NUL bytes of messages stay, escaped as \u0000: readers allow them */
    json_t *o = json_loadb(r.json, r.json_len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (!o)
        fprintf(stderr, "fuzz_event: %s: %.*s\n", err.text, (int)r.json_len, r.json);
    FZ_CHECK(o && json_is_object(o));
    FZ_CHECK((json_object_get(o, "peer") != NULL) == (ev.peer.len > 0));
    FZ_CHECK((json_object_get(o, "listener") != NULL) == (ev.listener.len > 0));
    FZ_CHECK(json_is_string(json_object_get(o, "event_id")));
    FZ_CHECK(json_is_string(json_object_get(o, "event_type")));
    json_decref(o);
    check_name(r.peer);
    check_name(r.rule);
    FZ_CHECK(strnlen(r.src, sizeof r.src) < sizeof r.src);

    /* kept and read back as it was */
    FZ_CHECK(sw_event_store_append(store, &r, 1) == SW_OK);
    int64_t last = sw_event_store_last_id(store);
    got g = {&r, 0};
    FZ_CHECK(sw_event_store_scan(store, last - 1, 1, compare, &g) == 1 && g.rows == 1);
    if (r.src[0]) {
        sw_event_query q = {.src = r.src, .after_id = last - 1};
        g.rows = 0;
        FZ_CHECK(sw_event_store_query(store, &q, compare, &g) == 1);
    }
    if (r.incident[0]) {
        sw_event_query q = {.incident = r.incident, .after_id = last - 1};
        g.rows = 0;
        FZ_CHECK(sw_event_store_query(store, &q, compare, &g) == 1);
    }
    if (++inputs % 4096 == 0)
        FZ_CHECK(sw_event_store_retain(store, 0) >= 0);
    sw_event_rec_clear(&r);
    return 0;
}
