/* config.h -- gemgated settings: one table (config.c) drives parsing from
 * the environment, then `.env` in the working directory, then defaults;
 * validation (a bad value fails start-up with a message naming it); and
 * `gemgated --help`.
 *
 * Settings are immutable snapshots.  config_load() publishes the first one;
 * config_reload() (SIGHUP, main thread) builds a complete new snapshot,
 * copies the non-reloadable keys from the current one, and publishes it
 * with one atomic pointer store.  Nothing is ever written in place.
 *
 * Readers write `cfg.x` as before: `cfg` is the snapshot pinned on this
 * thread (config_pin: the HTTP layer pins the snapshot a request took at
 * its start for every callback of that request, so one request sees one
 * snapshot), else the current one.  Lifetime: a snapshot is freed when
 * it is no longer current, no reference (config_acquire) holds it, and
 * CONFIG_GRACE_S seconds have passed since it was replaced; an unpinned
 * `cfg.x` read (or a pointer it returned, e.g. a string) is therefore valid
 * for CONFIG_GRACE_S seconds -- never keep one longer; take a reference.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum { THINKING_REASONING = 0, THINKING_DROP = 1 };
enum { STRATEGY_FAILOVER = 0, STRATEGY_ROUND_ROBIN = 1, STRATEGY_LEAST_USED = 2 };
enum { IMAGE_OUT_BASE64 = 0, IMAGE_OUT_URL = 1 };

struct settings {
    char *host;
    int64_t port;
    char *port_file;
    char *data_dir;
    char *database_url;
    char *api_key;          /* comma-separated list */
    char *admin_key;
    char *trusted_proxies;  /* CIDR list, admin lockout only */
    char *secure_c_ses, *host_c_oses, *csesidx, *config_id;
    char *proxy;
    char *auth_url, *api_url;
    int64_t ping_interval;
    int thinking;
    char *log_level;
    int64_t max_body;
    int64_t max_retries;
    int64_t tool_retry;         /* TOOL_RETRY: corrective retries of an invalid tool call */
    int strategy;
    int64_t account_max_concurrency;
    int64_t session_ttl;
    int64_t session_cache_max;  /* SESSION_CACHE_MAX: conversations kept in memory (sessions.h) */
    char *model_map;
    int64_t cooldown_429, cooldown_429_max, cooldown_error;
    int64_t up_connect_timeout, up_first_byte_timeout, up_idle_timeout, up_total_timeout;
    bool tls_verify;
    char *ca_bundle;
    int64_t threads;
    int64_t upstream_loops;
    bool up_gzip_streams;
    bool up_gzip_answers;
    int64_t max_connections, per_ip_connections, connection_timeout, request_timeout;
    char *metrics_key;
    char *cors_origins;
    char *secret_key, *secret_key_old;
    int64_t log_retention_days;
    char *web_dir;
    char *language_code, *time_zone;
    int64_t rate_limit_rpm;
    int image_output;
    int64_t image_max_bytes;
    bool fetch_allow_private;
    int64_t fetch_timeout;
    int64_t image_url_ttl;
    char *public_url;
    int64_t shutdown_grace;
    int64_t storeq_capacity;
    int64_t malloc_tcache_max;
    /* upstream fidelity (issue 18) */
    int64_t cooldown_overloaded, model_unavailable_ttl, expiry_watch_idle;
    int64_t image_poll_timeout, up_video_idle_timeout;
};

#define CONFIG_GRACE_S 10

/* The snapshot this thread reads: pinned, else current; before the first
 * config_load(), a zeroed bootstrap snapshot.  Never NULL.  The pointer is
 * not const only so that single-threaded unit tests and benches can set
 * fields (`cfg.strategy = ...`) as before; daemon code never writes
 * through it (reload publishes a new snapshot instead). */
struct settings *config_now(void);
#define cfg (*config_now())

/* A counted reference to the current snapshot (never NULL after
 * config_load); give it back with config_release(). */
const struct settings *config_acquire(void);
void config_release(const struct settings *s);
/* Make `cfg` on this thread read s (NULL: the current snapshot again).
 * Returns the previous pin so callers can nest. */
const struct settings *config_pin(const struct settings *s);

/* Load everything into the first snapshot; 0 or -1 with a message in err. */
int config_load(char *err, size_t errlen);
/* SIGHUP: a new snapshot from env/.env; only GG_CFG_RELOAD keys may change
 * (the others keep their current value; a change is logged as ignored).
 * Returns the number of changed keys, or -1 with err (current kept). */
int config_reload(char *err, size_t errlen);
/* Free replaced snapshots that nobody references any more (main thread,
 * about once a second). */
void config_reap(void);
/* Publish a copy of s as the current snapshot (unit tests, benches);
 * 0 or -1 on allocation failure. */
int config_install(const struct settings *s);
void config_help(FILE *out);
void config_free(void);             /* at exit: every snapshot */
/* The CPUs this process may run on (sched_getaffinity: taskset, cpusets),
 * else the online count; at least 1.  The default for thread counts set
 * to 0 (UPSTREAM_LOOPS; THREADS should follow, see http.c). */
int config_cpus(void);

#endif
