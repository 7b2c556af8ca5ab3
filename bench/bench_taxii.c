/* bench_taxii — what sipwalld's publisher and TAXII server cost
 * (src/exchange/taxii_*.c, src/daemon/publish.c's path without the event
 * store).
 *
 * usage: bench_taxii [-n INDICATORS] [-d DIR]
 *
 * Rows (objects/s, printed, never asserted):
 *   publish         per indicator: sw_fse_sign, sw_stix_bundle of one
 *                   indicator, every bundle object added to the publish
 *                   collection (SQLite in DIR, WAL, synchronous=FULL: one
 *                   committed transaction per object, as the daemon does)
 *   publish (mem)   the same into an in-memory store: the CPU part alone
 *   serve           GET objects/ pages of 1000 through sw_taxii_handle
 *                   (auth cached, paging by next) until the end
 *   manifest        the same for manifest/ */
#define _GNU_SOURCE
#include <getopt.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "sipwall/exchange.h"
#include "sipwall/exchange_fmt.h"
#include "sipwall/taxii.h"

#define COLL "3f0c5b8e-8a4d-4c1e-9b7a-2d6e1f0a9c31"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void mk(sw_fse *o, size_t i)
{
    memset(o, 0, sizeof *o);
    snprintf(o->org, sizeof o->org, "ZZ01");
    snprintf(o->node, sizeof o->node, "6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11");
    snprintf(o->event_type, sizeof o->event_type, "sip_scan");
    o->kind = SW_FSE_KIND_IPV4;
    snprintf(o->value, sizeof o->value, "10.%zu.%zu.%zu", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    (void)sw_fse_make_id(o->org, o->kind, o->value, o->event_type, o->id);
    o->modified_ms = 1796623200000LL + (int64_t)i;
    o->first_seen_ms = o->modified_ms - 60000;
    o->last_seen_ms = o->modified_ms;
    o->valid_until_ms = o->modified_ms + 6 * 3600000LL;
    o->count = 3;
    o->confidence = 90;
    o->severity = SW_FSE_SEV_HIGH;
    o->action = SW_FSE_ACT_BLOCK;
    o->tlp = SW_FSE_TLP_GREEN;
}

/* the publisher's work for n indicators into s; returns seconds */
static double publish(sw_taxii_store *s, const sw_jws_key *k, size_t n, size_t *objects)
{
    double t0 = now_s();
    *objects = 0;
    for (size_t i = 0; i < n; i++) {
        sw_fse o;
        mk(&o, i);
        if (sw_fse_sign(&o, k, SW_JWS_EDDSA, 0) != SW_OK)
            exit(1);
        sw_xo_ind x;
        sw_xo_from_fse(&o, &x);
        sw_xo_producer p = {.org = o.org};
        size_t len;
        const char *why;
        char *b = sw_stix_bundle(&p, &x, 1, &len, &why, NULL);
        json_t *j = b ? json_loadb(b, len, 0, NULL) : NULL;
        free(b);
        json_t *objs = json_object_get(j, "objects");
        for (size_t m = 0; m < json_array_size(objs); m++) {
            char *t = json_dumps(json_array_get(objs, m), JSON_COMPACT), err[200];
            int rc = sw_taxii_store_add(s, COLL, t, strlen(t), wall_us(), 10000000, 1, NULL, err, sizeof err);
            free(t);
            if (rc < 0) {
                fprintf(stderr, "add: %s\n", err);
                exit(1);
            }
            *objects += (size_t)rc;
        }
        json_decref(j);
        size_t el;
        char *enc = sw_fse_encode(&o, 1, &el), key[64];
        snprintf(key, sizeof key, "fse:%s", o.id);
        if (!enc || sw_taxii_store_kv_put(s, key, enc, el) != SW_OK)
            exit(1);
        free(enc);
    }
    return now_s() - t0;
}

static double serve(sw_taxii_server *srv, const char *auth, const char *what, size_t *objects)
{
    char target[256];
    double t0 = now_s();
    *objects = 0;
    snprintf(target, sizeof target, "/taxii2/api1/collections/" COLL "/%s/?limit=1000&match%%5Bversion%%5D=all", what);
    for (;;) {
        sw_taxii_request rq = {.method = "GET", .target = target, .accept = SW_TAXII_MEDIA, .authorization = auth,
                               .now_us = wall_us()};
        sw_taxii_response r;
        if (sw_taxii_handle(srv, &rq, &r) != SW_OK || r.status != 200)
            exit(1);
        json_t *j = json_loadb(r.body, r.len, 0, NULL);
        *objects += json_array_size(json_object_get(j, "objects"));
        const char *nx = json_string_value(json_object_get(j, "next"));
        if (!nx || !json_is_true(json_object_get(j, "more"))) {
            json_decref(j);
            free(r.body);
            break;
        }
        snprintf(target, sizeof target,
                 "/taxii2/api1/collections/" COLL "/%s/?limit=1000&match%%5Bversion%%5D=all&next=%s", what, nx);
        json_decref(j);
        free(r.body);
    }
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    size_t n = 2000;
    const char *dir = "/tmp";
    int c;
    while ((c = getopt(argc, argv, "n:d:")) != -1) {
        if (c == 'n')
            n = (size_t)strtoul(optarg, NULL, 10);
        else if (c == 'd')
            dir = optarg;
        else {
            fprintf(stderr, "usage: bench_taxii [-n INDICATORS] [-d DIR]\n");
            return 2;
        }
    }
    if (n == 0 || sodium_init() < 0)
        return 2;
    sw_jws_key *k = sw_jws_key_generate("ZZ01:bench");
    char path[4096], err[300];
    snprintf(path, sizeof path, "%s/bench_taxii.%d.db", dir, (int)getpid());
    sw_taxii_store *disk = sw_taxii_store_open(path, err, sizeof err);
    sw_taxii_store *mem = sw_taxii_store_open(NULL, err, sizeof err);
    if (!k || !disk || !mem) {
        fprintf(stderr, "bench_taxii: %s\n", err);
        return 1;
    }
    size_t objs;
    double t = publish(disk, k, n, &objs);
    printf("publish        %8zu indicators %8zu objects  %10.0f indicators/s  %10.0f objects/s  (SQLite %s, FULL)\n",
           n, objs, n / t, objs / t, dir);
    t = publish(mem, k, n, &objs);
    printf("publish (mem)  %8zu indicators %8zu objects  %10.0f indicators/s  %10.0f objects/s\n", n, objs, n / t,
           objs / t);

    sw_taxii_conf conf;
    sw_taxii_conf_init(&conf);
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, "bench-secret", 12, crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN) != 0)
        return 1;
    const char *l1[] = {"collection", COLL, "publish"};
    const char *l2[] = {"user", "b", "secret", hash, "read", "all"};
    if (sw_taxii_conf_line(&conf, l1, 3, "", err, sizeof err) != SW_OK ||
        sw_taxii_conf_line(&conf, l2, 6, "", err, sizeof err) != SW_OK ||
        sw_taxii_conf_finish(&conf, NULL, err, sizeof err) != SW_OK) {
        fprintf(stderr, "bench_taxii: %s\n", err);
        return 1;
    }
    sw_taxii_server *srv = sw_taxii_server_new(&conf, disk);
    char b64[64], auth[96];
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)"b:bench-secret", 14, sodium_base64_VARIANT_ORIGINAL);
    snprintf(auth, sizeof auth, "Basic %s", b64);
    size_t got;
    serve(srv, auth, "objects", &got); /* warm: the first verification hashes */
    t = serve(srv, auth, "objects", &got);
    printf("serve objects  %8zu objects in pages of 1000  %10.0f objects/s\n", got, got / t);
    t = serve(srv, auth, "manifest", &got);
    printf("serve manifest %8zu entries in pages of 1000  %10.0f entries/s\n", got, got / t);
    sw_taxii_server_free(srv);
    sw_taxii_store_close(disk);
    sw_taxii_store_close(mem);
    sw_jws_key_free(k);
    for (const char *suf = ""; suf; suf = strcmp(suf, "") == 0 ? "-wal" : strcmp(suf, "-wal") == 0 ? "-shm" : NULL) {
        char p2[4200];
        snprintf(p2, sizeof p2, "%s%s", path, suf);
        unlink(p2);
    }
    return 0;
}
