/* Start-time checks shared by `sipwalld` and `sipwalld --check-config`
 * (src/daemon/startcheck.c), so that a configuration check-config accepts
 * is one the daemon can start with (defect R10), and the two agree on the
 * resource limits.  Each returns SW_OK, or an SW_E* code with a message in
 * err that names the directive ("FILE:LINE: …" where the config keeps the
 * line, else "FILE: DIRECTIVE …"). */
#ifndef SWD_STARTCHECK_H
#define SWD_STARTCHECK_H

#include "daemon/config.h"
#include "sipwall/policy.h"

typedef enum swd_check_mode {
    SWD_CHECK_ONLY = 0,  /* --check-config: look, change nothing */
    SWD_CHECK_START = 1, /* the daemon starting: may adjust (RLIMIT_NOFILE) */
} swd_check_mode;

/* The number of workers the daemon runs for cfg (workers, or the online
 * CPUs, at most SWD_MAX_WORKERS). */
unsigned swd_worker_count(const swd_config *cfg);

/* Files, directories and accounts: the directories of events, log,
 * pid-file, admin and secret exist; an existing events/log file is a
 * regular file that can be appended to; an existing secret is valid (it is
 * not created in SWD_CHECK_ONLY); user and group exist; no HEP auth-key is
 * a documentation placeholder (CHANGE-ME …); every capture interface
 * exists.  In SWD_CHECK_ONLY also the TLS certificate/key pairs (loaded as
 * the daemon loads them: a key that does not match its certificate fails;
 * start loads them for real right after). */
int swd_check_environment(const swd_config *cfg, swd_check_mode mode, char *err, size_t errlen);

/* Binds every listen and hep address once, as a worker would
 * (SO_REUSEPORT), and closes it: an address that is not local, a port
 * below 1024 without the privilege, a port another program holds. */
int swd_check_binds(const swd_config *cfg, char *err, size_t errlen);

/* File descriptors: the stream connection slots of nworkers workers (as
 * conn.c sizes them from max-connections), each worker's sockets, and a
 * reserve for files and admin clients, against RLIMIT_NOFILE.  Above the
 * soft limit but within the hard one: SWD_CHECK_START raises the soft
 * limit (logged), SWD_CHECK_ONLY writes a note to *note (may be NULL).
 * Above the hard limit: SW_ELIMIT with what to change. */
int swd_check_fd_limit(const swd_config *cfg, unsigned nworkers, swd_check_mode mode, char *note,
                       size_t notelen, char *err, size_t errlen);

/* The fds the daemon needs for cfg with nworkers workers (see above). */
uint64_t swd_fd_need(const swd_config *cfg, unsigned nworkers);

/* Memory: the engine state each worker allocates for the policy's limits
 * (estimated from two small engines: the tables grow linearly with their
 * capacities), times nworkers, against what the machine and the process
 * may use (MemAvailable, the cgroup's memory.max, RLIMIT_AS).  p's limits
 * are changed during the call and restored.  *need (may be NULL) gets the
 * estimate in bytes. */
int swd_check_engine_memory(sw_policy *p, unsigned nworkers, uint64_t *need, char *err,
                            size_t errlen);

/* Stream connections at their worst: every slot (as conn.c sizes them)
 * holding max-conn-buffer of input and max-send-queue of output.  When
 * that is above the memory available now, writes a warning to note and
 * returns 1 (not an error: the ceilings are what an attacker could fill,
 * not what is allocated); else 0. */
int swd_check_conn_memory(const swd_config *cfg, unsigned nworkers, char *note, size_t notelen);

/* The pid file: absent, or naming a process that is gone (or is not
 * sipwalld): SW_OK (a stale file is left for the daemon to overwrite);
 * naming a running sipwalld: SW_ECONFLICT, with its pid in *pid. */
int swd_check_pid_file(const char *path, long *pid, char *err, size_t errlen);

/* The admin socket path: absent, or a socket nobody listens on (stale,
 * removed in SWD_CHECK_START): SW_OK; a socket that accepts a connection:
 * SW_ECONFLICT; something else at the path: SW_EINVAL. */
int swd_check_admin_socket(const char *path, swd_check_mode mode, char *err, size_t errlen);

/* Writes the pid file (replacing a stale one; never following a symlink). */
int swd_pid_file_write(const char *path, char *err, size_t errlen);

/* ---- configured secrets (src/daemon/keycheck.c) ---- */

#define SWD_KEY_MIN 16         /* bytes: an inline key or password at least this long */
#define SWD_KEY_MIN_DISTINCT 6 /* and at least this many different characters */

typedef enum swd_key_verdict {
    SWD_KEY_OK = 0,
    SWD_KEY_DEFAULT = 1, /* a placeholder or well-known default (CHANGE-ME, secret, …) */
    SWD_KEY_WEAK = 2,    /* too short, too few characters, or a demo key off loopback */
} swd_key_verdict;

/* A private key or password file: a pkcs11: URI passes; a file must be a
 * regular file with no group or other permission bits (0600 or stricter)
 * owned by root, the running user or service_uid (-1: none).  SW_OK, or an
 * SW_E* code with the reason (starting with the path) in why. */
int swd_key_file_check(const char *path, long service_uid, char *why, size_t whylen);

/* Judges an inline key or password of len bytes: SWD_KEY_OK, or a verdict
 * with the reason in why ("is shorter than 16 bytes").  loopback: the
 * secret only guards a loopback address, where the documentation's demo
 * keys are accepted.  The key itself never goes into why. */
swd_key_verdict swd_weak_key(const char *key, size_t len, int loopback, char *why, size_t whylen);

/* Every configured secret: the private keys and the Redis password file
 * (swd_key_file_check, service user from cfg->user), the Redis password
 * and the HEP auth-keys (swd_weak_key).  The message names the directive
 * and its line, never the secret (a placeholder is quoted). */
int swd_check_secrets(const swd_config *cfg, char *err, size_t errlen);

/* ---- least privilege after binding (src/daemon/privs.c) ---- */

/* Empties the capability bounding set where CAP_SETPCAP allows (before the
 * drop to `user`, which needs CAP_SETUID/SETGID: those stay permitted). */
void swd_caps_bound_drop(void);

/* Clears the permitted, effective and inheritable capabilities, sets
 * no_new_privs and makes the process non-dumpable; checks the result.
 * After every bind and root-only open (with or without a `user`).  SW_OK
 * or SW_EIO with the reason in err. */
int swd_caps_clear(char *err, size_t errlen);

/* What the process holds now, as the kernel reports it: real/effective/
 * saved user and group ids, the permitted, effective and bounding
 * capability sets (hex masks from /proc/self/status), no_new_privs and
 * dumpable, e.g. "uid 0/0/0 gid 0/0/0 cap_prm 0 cap_eff 0 cap_bnd 0
 * no_new_privs 1 dumpable 0".  *kept is the number of permitted
 * capabilities (-1 when unknown).  For the privilege event. */
void swd_privs_describe(char *out, size_t len, int *kept);

/* A warning in the log and an audit event (category system, type
 * admin_change, rule config.insecure-listener) for every plain-text
 * listener configured with insecure=yes (HEP, metrics): at start, once the
 * event pipeline runs.  src/daemon/keycheck.c. */
struct swd_daemon;
void swd_warn_plain_listeners(struct swd_daemon *d);

#endif
