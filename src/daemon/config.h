/* sipwalld — the configuration file (docs/sipwalld.md, "Configuration
 * reference") and the secret file.
 *
 * The parsed configuration is plain data: fixed arrays with the maxima
 * below, strings owned by the struct (freed by swd_config_free).  Parsing
 * and semantic validation stop at the first error and report it as
 * "FILE:LINE: message" in err; a config that loads is complete and
 * consistent (every required directive present, every limit in range,
 * TLS files readable), so the daemon does not check it again. */
#ifndef SWD_CONFIG_H
#define SWD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "sipwall/addr.h"
#include "sipwall/common.h"
#include "sipwall/proxy.h"

/* Maxima of the fixed tables (a directive past them is an error). */
#define SWD_MAX_LISTENS SW_PROXY_MAX_IFACES /* 32 */
#define SWD_MAX_FORWARD 8
#define SWD_MAX_ROUTES 64
#define SWD_MAX_ROUTE_HOPS 8
#define SWD_MAX_CAPTURES 8
#define SWD_MAX_HEPS 8
#define SWD_MAX_POLICIES 32
#define SWD_MAX_TRUST_KEYS 8
#define SWD_MAX_WORKERS 64
#define SWD_LISTEN_NAME_MAX 32 /* including the NUL */

#define SWD_MAX_EXPORTS 8     /* export syslog … lines */

/* Input limits of the parser. */
#define SWD_CONFIG_MAX_LINE 4096        /* bytes per line, without the newline */
#define SWD_CONFIG_MAX_SIZE (1u << 20)  /* bytes per file */

/* events-db bounds */
#define SWD_EVENTS_DEFAULT_QUEUE 4096
#define SWD_EVENTS_MIN_QUEUE 16
#define SWD_EVENTS_MAX_QUEUE 1048576
#define SWD_EVENTS_MAX_AGE_S (3650LL * 86400)
#define SWD_EVENTS_MIN_BYTES (1LL << 20)

#define SWD_SECRET_LEN 32 /* == SW_HIDE_KEY_LEN */

typedef enum swd_mode {
    SWD_MODE_INLINE = 0,  /* the proxy (and, with capture/hep lines, a sensor alongside) */
    SWD_MODE_PASSIVE = 1, /* sensor only: capture and/or HEP, never forwards */
} swd_mode;

/* log-level: a message is written when its level <= the configured one. */
typedef enum swd_log_level {
    SWD_LOG_ERROR = 0,
    SWD_LOG_WARN = 1,
    SWD_LOG_INFO = 2,
    SWD_LOG_DEBUG = 3,
} swd_log_level;

/* TLS peer certificate verification (verify=). */
typedef enum swd_verify {
    SWD_VERIFY_NONE = 0,     /* no client certificate requested */
    SWD_VERIFY_OPTIONAL = 1, /* requested; checked against ca when given */
    SWD_VERIFY_REQUIRED = 2, /* required and checked against ca */
} swd_verify;

/* listen TRANSPORT ADDR:PORT side=… [advertise=…] [name=…] [cert= key= ca= verify=] */
typedef struct swd_listen {
    char name[SWD_LISTEN_NAME_MAX]; /* given, or "<transport>-core|ic-<n>", n = position from 1 */
    sw_transport transport;         /* UDP, TCP or TLS */
    sw_addr addr;                   /* where to bind; port 1..65535 */
    sw_side side;
    sw_addr advertise;              /* what goes into Via/Record-Route; valid when has_advertise */
    uint8_t has_advertise;
    char *cert, *key, *ca;          /* TLS only (NULL otherwise); ca may be NULL when verify=none */
    int verify;                     /* swd_verify; TLS only, default SWD_VERIFY_NONE */
    int line;                       /* where it was configured */
} swd_listen;

/* A next hop: transport:ADDR:PORT (ADDR may be [v6]). */
typedef struct swd_hop {
    sw_transport transport;
    sw_addr addr;
} swd_hop;

/* route DOMAIN HOP [HOP…]: core → partner when the R-URI / Route host is a
 * name.  domain is lowercased; matched exactly (no wildcards). */
typedef struct swd_route {
    char *domain;
    swd_hop hops[SWD_MAX_ROUTE_HOPS];
    unsigned nhops;
    int line;
} swd_route;

/* limits KEY=VALUE…: defaults from swd_limits_default, ranges in
 * docs/sipwalld.md.  Every value is > 0 but
 * reserve-connections (0: no reserve). */
typedef struct swd_limits {
    uint32_t max_connections;        /* open stream connections, all listeners (4096) */
    uint32_t max_connections_per_ip; /* from one source IP (64) */
    uint32_t idle_timeout_s;         /* connection without traffic is closed (300) */
    uint32_t handshake_timeout_s;    /* TLS handshake must finish within (10) */
    uint32_t message_timeout_s;      /* a started message must complete within (30): slowloris */
    uint32_t max_conn_buffer;        /* bytes buffered per connection for an incomplete message (262144) */
    uint32_t max_send_queue;         /* bytes queued toward a slow reader before closing it (1048576) */
    uint32_t udp_batch;              /* datagrams per recvmmsg/sendmmsg (64) */
    uint32_t socket_buffer;          /* SO_RCVBUF/SO_SNDBUF requested (4194304) */
    /* connection admission (docs/sipwalld.md "limits"): what counts as one
     * source ("IP") and one network, by prefix length; caps for strangers
     * (sources the policy does not know as partners) */
    uint32_t max_connections_per_net; /* strangers from one network (256) */
    uint32_t reserve_connections;     /* slots only partners may take (max-connections / 8; may be 0) */
    uint32_t stranger_idle_timeout_s; /* a stranger's idle limit; keep-alives do not reset it (30) */
    uint32_t ip_prefix4, ip_prefix6;  /* one "IP": /32, /64 */
    uint32_t net_prefix4, net_prefix6; /* one network: /24, /48 */
} swd_limits;

/* limits side=core|interconnect max-size=… max-headers=… max-header-len=…
 * max-via=…: the SIP parser's limits for messages from one side, used by
 * the stream framer and the engine's parse (UDP too).  Defaults from
 * swd_sip_side_defaults: the parser's defaults for the core (65535-byte
 * messages, 256 header fields, 4096-byte fields, 64 Via values), tighter
 * for the untrusted interconnect (32768, 128, 4096, 32). */
#define SWD_SIDES 2 /* indexed by sw_side */

void swd_sip_side_defaults(sw_sip_limits lim[SWD_SIDES]) SW_NONNULL(1);

/* capture IFACE [filter="…"] [snaplen=N] [buffer=N] */
typedef struct swd_capture {
    char *iface;
    char *filter;     /* BPF expression, NULL = none (everything the sensor decodes) */
    uint32_t snaplen; /* default 65535 */
    uint32_t buffer;  /* kernel capture buffer bytes, default 33554432 */
    int line;
} swd_capture;

/* hep udp|tcp ADDR:PORT [auth-key=…] [insecure=yes]
 * hep tls ADDR:PORT cert= key= [ca= verify=] [auth-key=…] */
typedef struct swd_hep {
    sw_transport transport; /* UDP or TCP (also for hep tls: TCP underneath) */
    sw_addr addr;
    char *auth_key;         /* HEP auth key chunk expected, NULL = not checked */
    int line;
    uint8_t insecure;       /* insecure=yes: plain text on a non-loopback address accepted */
    uint8_t tls;            /* hep tls: HEP3 over TLS on TCP (cert=, key=, [ca=, verify=]) */
    char *cert, *key, *ca;  /* hep tls only */
    int verify;             /* SWD_VERIFY_* (hep tls; required with ca=, else none) */
} swd_hep;

/* export syslog NAME tls|dtls HOST:PORT ca= cert= key= [server-name=] [store=]
 *   [format=] [facility=] [window=] [batch=] [dtls-rekey=] [dtls-rate=] [hostname=]
 *   (docs/export.md) */
typedef struct swd_export {
    char name[32];
    int transport;         /* sw_export_transport */
    char *host;            /* name or IP literal (no brackets) */
    uint16_t port;
    char *ca, *cert, *key; /* required, readable */
    char *server_name;     /* what the collector's certificate must name; default host */
    char *store;           /* the event store the exporter reads (default: events-db) */
    int format;            /* sw_export_format, default rfc5424 */
    unsigned facility;     /* 0..23, default 16 (local0) */
    unsigned window;       /* events resent after a reconnect, default 64 */
    unsigned batch;        /* events per write / cursor update, default 256 */
    unsigned dtls_rekey_s; /* DTLS session lifetime, default 10 */
    unsigned dtls_rate;    /* DTLS records per second at most, default 5000 */
    char *hostname;        /* HOSTNAME of the messages; NULL = gethostname() */
    int line;
} swd_export;

/* intel trust FILE [keys DIR] [max-indicators N] [block-score N]
 *       [alert-score N] [tick SECONDS]: partners' intelligence consumed
 * (docs/exchange-intel.md); the trust file is checked at load. */
typedef struct swd_intel_cfg {
    int line;              /* 0 = not configured */
    char *trust;           /* "partner ORG trust N" lines */
    char *keys;            /* directory of ORG.jwks files; NULL = nothing verifies */
    uint32_t max_indicators, block_score, alert_score; /* 0 = the defaults of intel.h */
    uint32_t tick_s;       /* expiry and renewal sweep, default 1 */
} swd_intel_cfg;

/* intel-pull URL collection ID org ORG [every SECONDS] [user U password-file F |
 *   token-file F] [ca FILE] [cert FILE key FILE] [timeout SECONDS] [max-page BYTES]
 *   [limit N] [cursor FILE] [allow-http]: a TAXII 2.1 collection pulled
 * (daemon/pull.c, docs/exchange-intel.md) into the intel consumer. */
#define SWD_MAX_PULLS 8
typedef struct swd_pull_cfg {
    int line;
    char *url;             /* the API root, ending in '/' */
    char *collection;      /* [A-Za-z0-9._-]{1,64} */
    char org[17];          /* the partner: producer of its plain STIX indicators */
    uint32_t every_s;      /* default 60 */
    uint32_t timeout_s;    /* per request, default 30 */
    uint32_t max_page;     /* bytes of one reply, default 16 MiB */
    uint32_t limit;        /* objects per page asked, default 500 */
    char *user, *password_file, *token_file;
    char *ca, *cert, *key;
    char *cursor;          /* NULL: next to the secret, intel-pull-ORG-COLLECTION.cursor */
    uint8_t allow_http;
    /* intel-apiban: an APIBAN feed (org "apiban", unsigned: trusted by the
     * trust file's `partner apiban trust N`), no cursor file: every start
     * takes the feed again from its first ID */
    uint8_t apiban;
    uint8_t confidence;    /* of its indicators, default 90 */
    char *key_file;        /* the API key, 0600, [A-Za-z0-9._-] */
} swd_pull_cfg;

/* intel-push-peer CERT-NAME org ORG: a partner whose client certificate
 * (subject CN) may POST its signed objects to /v1/intel/push on the admin
 * API (which then needs client-ca). */
#define SWD_MAX_PUSH_PEERS 64
typedef struct swd_push_peer {
    int line;
    char cn[128];
    char org[17];
} swd_push_peer;

/* intel-push URL [ca FILE] [cert FILE key FILE] [token-file FILE | user U
 *   password-file F] [queue N] [timeout SECONDS] [taxii] [allow-http]: a
 * partner's push receiver (or, with taxii, a TAXII 2.1 collection's
 * objects URL)
 * (POST /v1/intel/push) to which every object published here
 * (ctl intel publish) is sent, with retries (daemon/push.c). */
#define SWD_MAX_PUSHES 8
typedef struct swd_push_cfg {
    int line;
    char *url;
    char *ca, *cert, *key, *token_file;
    char *user, *password_file; /* HTTP Basic (a TAXII server) */
    uint8_t taxii;         /* POST a TAXII 2.1 envelope of STIX indicators to a collection */
    uint32_t queue;        /* objects waiting at most, default 10000 */
    uint32_t timeout_s;    /* per request, default 10 */
    uint8_t allow_http;
} swd_push_cfg;

/* state redis HOST:PORT [user=] [password-file=] [prefix=] [node=] [ca= cert=
 *   key= server-name=] [queue=] [insecure=yes]: the cluster state store
 *   (docs/cluster.md); without ca= only on loopback unless insecure=yes */
typedef struct swd_state_redis {
    int line;              /* 0 = not configured (the in-process store) */
    sw_addr addr;          /* IP literal and port */
    char *user;            /* ACL user; NULL = none */
    char *password_file;   /* mode 0600 or stricter; NULL = no AUTH */
    char *prefix;          /* keys and channel, default "sipwall:" */
    char *node;            /* this node's name; NULL = HOSTNAME:PID at start */
    uint8_t insecure;      /* insecure=yes: plain text (no ca=) to a non-loopback address */
    char *ca, *cert, *key; /* TLS when ca is set; cert and key: our client certificate */
    char *server_name;     /* what Redis' certificate must name; NULL = the chain only */
    uint32_t queue;        /* writes waiting for Redis, at most (default 16384) */
} swd_state_redis;
/* admin-api listen …: the HTTPS admin API (docs/admin-api.md) */
typedef struct swd_admin_api {
    uint8_t on;
    sw_addr addr;
    char *cert, *key;
    char *client_ca;        /* NULL: no client certificate asked */
    char *credential;       /* the Argon2id hash file (made at first start) */
    uint32_t max_conns, timeout_s;
    int line;
} swd_admin_api;

/* publish export-policy FILE sign-key FILE kid KID [group NAME]
 *         [refresh SECONDS]: the daemon's own detections shared as signed
 * FSE objects in the TAXII collection marked publish
 * (docs/exchange-taxii.md). */
typedef struct swd_publish_cfg {
    int line;              /* 0 = not configured */
    char *policy, *key, *kid, *group; /* group NULL = the policy's first */
    uint32_t refresh_s;    /* a new version of a known indicator at most this often (default 300) */
} swd_publish_cfg;

typedef struct swd_config {
    char *path;             /* the name given to load/parse */
    swd_mode mode;          /* default inline */
    unsigned workers;       /* 0 = auto (online CPUs); else 1..SWD_MAX_WORKERS */
    char *user, *group;     /* drop privileges after binding; NULL = stay; group NULL = user's */
    char *pid_file;         /* NULL = none */
    char *location_feed;    /* NULL = none */
    char *events;           /* NULL = no event file */
    /* events-db PATH [max-age=] [max-size=] [queue=]: the SQLite event store */
    char *events_db;             /* NULL = no store */
    int64_t events_db_max_age_s; /* retention by age; 0 = keep */
    int64_t events_db_max_bytes; /* retention by size; 0 = unbounded */
    uint32_t events_queue;       /* events per worker queue; 0 = SWD_EVENTS_DEFAULT_QUEUE */
    char *log;              /* "stderr" (default), "syslog" or a file path */
    char *admin;            /* unix socket path, NULL = none */
    char *secret_path;      /* required in inline mode (branch MACs, tokens); NULL in passive */
    int log_level;          /* swd_log_level, default SWD_LOG_INFO */
    uint8_t topology_hiding; /* default 1 */

    char **policies;        /* in order, overlaid; "builtin:default" is the embedded one */
    unsigned npolicies;

    swd_listen listens[SWD_MAX_LISTENS];
    unsigned nlistens;
    swd_hop forward[SWD_MAX_FORWARD]; /* interconnect → core, failover order */
    unsigned nforward;
    swd_route routes[SWD_MAX_ROUTES];
    unsigned nroutes;

    char *tls_client_cert, *tls_client_key, *tls_client_ca; /* NULL when not configured */
    int tls_client_verify;  /* swd_verify, default SWD_VERIFY_REQUIRED */

    swd_limits limits;
    sw_sip_limits sip_limits[SWD_SIDES]; /* per side: limits side=… */
    swd_capture captures[SWD_MAX_CAPTURES];
    unsigned ncaptures;
    swd_hep heps[SWD_MAX_HEPS];
    unsigned nheps;

    swd_export exports[SWD_MAX_EXPORTS];
    unsigned nexports;

    /* metrics listen ADDR:PORT [allow-remote=yes] (docs/metrics.md) */
    sw_addr metrics_addr;   /* valid when has_metrics */
    uint8_t has_metrics;
    uint8_t metrics_allow_remote; /* a non-loopback address was allowed explicitly */
    int metrics_line;
    uint8_t metrics_insecure; /* insecure=yes: plain HTTP on a non-loopback address accepted */
    swd_state_redis state_redis;
    swd_admin_api api;      /* admin-api; api.on = 0: none */
    swd_intel_cfg intel;    /* intel; intel.line = 0: none */
    /* taxii … lines (docs/exchange-taxii.md): the TAXII 2.1 server on the
     * admin API; NULL = none */
    struct sw_taxii_conf *taxii;
    char *taxii_store;      /* taxii store PATH: the SQLite file of its collections */
    int taxii_line;         /* the first taxii line */
    swd_publish_cfg publish;
    swd_pull_cfg pulls[SWD_MAX_PULLS]; /* intel-pull lines */
    unsigned npulls;
    swd_push_peer push_peers[SWD_MAX_PUSH_PEERS]; /* intel-push-peer lines */
    unsigned npush_peers;
    swd_push_cfg pushes[SWD_MAX_PUSHES]; /* intel-push lines */
    unsigned npushes;

    /* bundle FILE [state=PATH], trust-key FILE [retiring] (docs/bundles.md):
     * the policy and the location feed load only from the signed bundle */
    char *bundle;           /* NULL = policies from `policy` lines */
    char *bundle_state;     /* the mark of the last accepted bundle (+ ".good": its copy) */
    char *trust_keys[SWD_MAX_TRUST_KEYS];
    uint8_t trust_retiring[SWD_MAX_TRUST_KEYS];
    unsigned ntrust_keys;
} swd_config;

/* Reads and parses path (at most SWD_CONFIG_MAX_SIZE bytes).  On success
 * *out is filled (free with swd_config_free) and 0 is returned; on failure
 * *out holds nothing to free, err holds "FILE:LINE: message" (or
 * "FILE: message" for errors about the whole file) and a negative SW_E* code
 * is returned (SW_EIO: unreadable, SW_ELIMIT: too big, SW_EINVAL: bad). */
int swd_config_load(const char *path, swd_config *out, char *err, size_t errlen)
    SW_WUR SW_NONNULL(1, 2, 3);

/* The same on text in memory; name is used in messages and kept in out->path.
 * Relative TLS file paths are checked relative to the working directory. */
int swd_config_parse(const char *text, size_t len, const char *name, swd_config *out, char *err,
                     size_t errlen) SW_WUR SW_NONNULL(3, 4, 5);

/* Frees what the config owns and zeroes it; safe on a zeroed config. */
void swd_config_free(swd_config *c);

void swd_limits_default(swd_limits *l) SW_NONNULL(1);

/* Names for logs and the admin socket ("inline", "info", "required"). */
const char *swd_mode_name(swd_mode m);
const char *swd_log_level_name(int level);
const char *swd_verify_name(int verify);

/* Loads the 32-byte secret (64 hex digits, optionally followed by a
 * newline, or exactly 32 raw bytes).  When the file does not exist, creates
 * it with fresh random bytes (getrandom), as 64 hex digits and a newline,
 * mode 0600, O_EXCL: no default credentials, every installation gets its
 * own at first start.  Refuses a secret that is not a regular file, is
 * readable or writable by group/other, or is shorter than 32 bytes.
 * Returns 0, or a negative SW_E* code with a message in err. */
int swd_secret_load_or_create(const char *path, uint8_t out[SWD_SECRET_LEN], char *err,
                              size_t errlen) SW_WUR SW_NONNULL(1, 2, 3);

#endif
