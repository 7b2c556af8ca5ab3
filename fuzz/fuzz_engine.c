/* fuzz_engine — libFuzzer target for the screening engine.
 *
 * One engine with the shipped default policy plus a small network (a core,
 * a partner, a roaming partner) lives for the whole run, so state carries
 * over between inputs as it does under attack: dialogs, transactions,
 * counters, blocks, capped events.  Each input is a little framing header
 * then one message:
 *   byte 0   source: low 2 bits pick core / partner / roaming / unknown
 *            (the unknown address varies with byte 1), bit 2 = TCP framing
 *   byte 1   varies the unknown source address and the clock step
 *   rest     the message bytes (exactly sized heap block, so over-reads trip ASan)
 * Checked: the engine returns a verdict with a valid action, the facts are
 * consistent, and its memory never changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipwall/engine.h"
#include "sipwall/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char net[] =
    "home { plmn 234-15; country-code 44; national-prefix 0; ranges +447700900000-+447700900999 }\n"
    "partner core { role core; address 10.0.0.1/32 }\n"
    "partner alpha { role interconnect; address 192.0.2.10/32; ranges +33639980000-+33639989999 }\n"
    "partner roam { role roaming; address 192.0.2.30/32; domains ims.mnc001.mcc208.3gppnetwork.org }\n";

static sw_policy *pol;
static sw_engine *eng;
static size_t mem0;
static int64_t clock_ns = INT64_C(1790000000) * 1000000000;

static int null_emit(sw_event_sink *s, const sw_event *ev)
{
    (void)s;
    /* every event must serialise */
    size_t len;
    char *j = sw_event_json(ev, &len);
    if (!j)
        abort();
    free(j);
    return SW_OK;
}
static int null_flush(sw_event_sink *s)
{
    (void)s;
    return SW_OK;
}
static const sw_event_sink_ops null_ops = {
    .name = "null", .emit = null_emit, .flush = null_flush, .close = null_flush};
static sw_event_sink sink = {&null_ops, 0, 0};

static void init(void)
{
    static sw_policy_diags d;
    char path[] = "/tmp/fuzz_engine_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    FILE *f = fdopen(fd, "w");
    fputs(net, f);
    fclose(f);
    const char *paths[] = {"builtin:default", path};
    if (sw_policy_load(paths, 2, &pol, &d) != SW_OK)
        abort();
    remove(path);
    /* small tables so that eviction paths are exercised */
    pol->limits.sources = pol->limits.numbers = pol->limits.dialogs = 256;
    pol->limits.blocks = pol->limits.event_keys = 64;
    sw_engine_config cfg = {.policy = pol, .sink = &sink, .passive = 1, .seed = 7};
    eng = sw_engine_new(&cfg);
    if (!eng)
        abort();
    mem0 = sw_engine_memory(eng);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!eng)
        init();
    if (size < 2)
        return 0;
    uint8_t b0 = data[0], b1 = data[1];
    size_t len = size - 2;
    char *buf = malloc(len ? len : 1);
    if (!buf)
        return 0;
    memcpy(buf, data + 2, len);
    sw_engine_msg m;
    memset(&m, 0, sizeof m);
    m.data = buf;
    m.len = len;
    clock_ns += (int64_t)(b1 & 0x0f) * 250000000; /* 0..3.75 s */
    m.ts_ns = clock_ns;
    static const char *const srcs[] = {"10.0.0.1:5060", "192.0.2.10:5060", "192.0.2.30:5060", NULL};
    const char *s = srcs[b0 & 3];
    if (s) {
        if (sw_addr_parse(s, &m.src) != SW_OK ||
            sw_addr_parse((b0 & 3) == 0 ? "192.0.2.10:5060" : "10.0.0.1:5060", &m.dst) != SW_OK)
            abort();
    } else {
        m.src.family = 4;
        m.src.ip[0] = 203;
        m.src.ip[3] = b1;
        m.src.port = 5060;
        if (sw_addr_parse("10.0.0.1:5060", &m.dst) != SW_OK)
            abort();
    }
    m.transport = (b0 & 4) ? SW_TRANSPORT_TCP : SW_TRANSPORT_UDP;
    m.framing = (b0 & 4) ? SW_SIP_STREAM : SW_SIP_DATAGRAM;
    m.frame = 1;
    sw_verdict v;
    (void)sw_engine_screen(eng, &m, &v);
    if ((unsigned)v.action >= SW_ACTION__COUNT || !v.facts || v.facts->a_len >= SW_NUMBER_MAX ||
        v.facts->b_len >= SW_NUMBER_MAX || v.nstrip_names > SW_VERDICT_MAX_NAMES)
        abort();
    if (v.action == SW_ACTION_REJECT && (v.status < 300 || v.status > 699))
        abort();
    if (sw_engine_memory(eng) != mem0)
        abort();
    if ((b1 & 0xf0) == 0xf0)
        (void)sw_engine_flush(eng, clock_ns);
    free(buf);
    return 0;
}
