/* sipwalld's exporters (daemon/daemon.h, docs/export.md): one
 * sw_exporter per `export syslog` line, started after the privilege drop,
 * logging through the daemon's log, counted in `ctl stats`. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"

static void export_log(void *arg, int level, const char *msg)
{
    (void)arg;
    swd_log(level == 0 ? SWD_LOG_ERROR : level == 1 ? SWD_LOG_WARN : level == 2 ? SWD_LOG_INFO
                                                                                : SWD_LOG_DEBUG,
            "export", "%s", msg);
}

int swd_exports_create(swd_daemon *d, char *err, size_t errlen)
{
    const swd_config *cfg = d->cfg;
    char host[256];
    if (gethostname(host, sizeof host) != 0)
        host[0] = '\0';
    host[sizeof host - 1] = '\0';
    for (unsigned i = 0; i < cfg->nexports; i++) {
        const swd_export *x = &cfg->exports[i];
        sw_exporter_conf c;
        memset(&c, 0, sizeof c);
        c.name = x->name;
        c.store = x->store;
        c.transport = (sw_export_transport)x->transport;
        c.host = x->host;
        c.port = x->port;
        c.ca = x->ca;
        c.cert = x->cert;
        c.key = x->key;
        c.server_name = x->server_name;
        c.syslog.format = (sw_export_format)x->format;
        c.syslog.facility = x->facility;
        c.syslog.hostname = x->hostname ? x->hostname : host;
        c.syslog.app_name = "sipwalld";
        c.syslog.procid = (long)getpid();
        c.syslog.version = swd_version();
        c.window = x->window;
        c.batch = x->batch;
        c.dtls_rekey_s = x->dtls_rekey_s;
        c.dtls_rate = x->dtls_rate;
        c.log = export_log;
        char e[512];
        d->exporters[i] = sw_exporter_new(&c, e, sizeof e);
        if (!d->exporters[i]) {
            snprintf(err, errlen, "%s:%d: export %s: %s", cfg->path, x->line, x->name, e);
            return SW_EINVAL;
        }
        d->nexporters = i + 1;
        /* now, while we may still enter the store's directory (it is
         * root's, 0700, in the shipped layout); else the thread retries */
        if (sw_exporter_open_store(d->exporters[i], e, sizeof e) != SW_OK)
            swd_warn("export", "export %s: %s; retrying every second", x->name, e);
    }
    return SW_OK;
}

int swd_exports_start(swd_daemon *d, char *err, size_t errlen)
{
    for (unsigned i = 0; i < d->nexporters; i++) {
        if (sw_exporter_start(d->exporters[i]) != SW_OK) {
            snprintf(err, errlen, "export %s: cannot start its thread",
                     sw_exporter_name(d->exporters[i]));
            return SW_EIO;
        }
        swd_info("export", "exporter %s started", sw_exporter_name(d->exporters[i]));
    }
    return SW_OK;
}

void swd_exports_free(swd_daemon *d)
{
    for (unsigned i = 0; i < d->nexporters; i++) {
        sw_exporter_stats st;
        sw_exporter_get_stats(d->exporters[i], &st);
        sw_exporter_stop(d->exporters[i]);
        swd_info("export", "exporter %s stopped: sent=%llu duplicates=%llu cursor=%lld behind=%lld",
                 sw_exporter_name(d->exporters[i]), (unsigned long long)st.sent,
                 (unsigned long long)st.duplicates, (long long)st.cursor, (long long)st.behind);
        sw_exporter_free(d->exporters[i]);
        d->exporters[i] = NULL;
    }
    d->nexporters = 0;
}

char *swd_exports_stats_json(swd_daemon *d)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    for (unsigned i = 0; i < d->nexporters; i++) {
        sw_exporter_stats st;
        sw_exporter_get_stats(d->exporters[i], &st);
        json_t *e = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b}",
                              "sent", (json_int_t)st.sent, "duplicates", (json_int_t)st.duplicates,
                              "reconnects", (json_int_t)st.reconnects, "connect_failures",
                              (json_int_t)st.connect_failures, "handshake_failures",
                              (json_int_t)st.handshake_failures, "write_failures",
                              (json_int_t)st.write_failures, "format_errors",
                              (json_int_t)st.format_errors, "cursor", (json_int_t)st.cursor,
                              "last_id", (json_int_t)st.last_id, "behind", (json_int_t)st.behind,
                              "connected", (int)st.connected);
        if (!e || json_object_set_new(o, sw_exporter_name(d->exporters[i]), e) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s;
}
