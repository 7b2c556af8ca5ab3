/* store-feed: appends synthetic events to an event store, for the export
 * tests (tests/scripts/test_export_*.sh).
 *
 *   store-feed STORE N [RATE]
 *
 * Appends N events (a rejected INVITE scan from 192.0.2.x, reason
 * "feed event K of N") in transactions of at most 50, at about RATE events
 * per second (0 or absent: as fast as the store takes them), and prints
 * the last id.  Exit 1 when an append fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sipwall/event.h"

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: store-feed STORE N [RATE]\n");
        return 2;
    }
    long n = strtol(argv[2], NULL, 10);
    double rate = argc == 4 ? strtod(argv[3], NULL) : 0;
    if (n <= 0 || n > 10000000 || rate < 0) {
        fprintf(stderr, "store-feed: bad N or RATE\n");
        return 2;
    }
    char err[512];
    sw_event_store *s = sw_event_store_open(argv[1], NULL, err, sizeof err);
    if (!s) {
        fprintf(stderr, "store-feed: %s\n", err);
        return 1;
    }
    enum { CHUNK = 50 };
    sw_event_rec recs[CHUNK];
    char reason[CHUNK][64];
    int64_t t0 = now_ns();
    int rc = 0;
    for (long done = 0; done < n && rc == 0;) {
        size_t k = 0;
        for (; k < CHUNK && done + (long)k < n; k++) {
            sw_event ev;
            sw_event_init(&ev, SW_EVT_SIP_SCAN, SW_CAT_BEHAVIOURAL, "scan.extensions");
            ev.ts_ns = now_ns();
            ev.action = SW_ACTION_REJECT;
            ev.action_status = 403;
            int len = snprintf(reason[k], sizeof reason[k], "feed event %ld of %ld",
                               done + (long)k + 1, n);
            ev.reason = sw_str_make(reason[k], (size_t)len);
            ev.src.family = 4;
            ev.src.ip[0] = 192;
            ev.src.ip[2] = 2;
            ev.src.ip[3] = (uint8_t)(1 + (done + (long)k) % 250);
            ev.src.port = 5060;
            ev.transport = SW_TRANSPORT_UDP;
            ev.method = SW_STR_LIT("INVITE");
            ev.peer = SW_STR_LIT("alpha");
            if (sw_event_rec_fill(&recs[k], &ev) != SW_OK) {
                fprintf(stderr, "store-feed: out of memory\n");
                return 1;
            }
        }
        if (sw_event_store_append(s, recs, k) != SW_OK) {
            fprintf(stderr, "store-feed: append: %s\n", sw_event_store_error(s));
            rc = 1;
        }
        for (size_t i = 0; i < k; i++)
            sw_event_rec_clear(&recs[i]);
        done += (long)k;
        if (rate > 0) {
            int64_t due = t0 + (int64_t)((double)done / rate * 1e9);
            int64_t wait = due - now_ns();
            if (wait > 0) {
                struct timespec ts = {(time_t)(wait / 1000000000), (long)(wait % 1000000000)};
                nanosleep(&ts, NULL);
            }
        }
    }
    printf("%lld\n", (long long)sw_event_store_last_id(s));
    sw_event_store_close(s);
    return rc;
}
