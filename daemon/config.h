/* config.h -- gemgated settings: one table (config.c) drives parsing from
 * the environment, then `.env` in the working directory, then defaults;
 * validation (a bad value fails start-up with a message naming it); and
 * `gemgated --help`.  The global `cfg` is written once at start-up (and for
 * RELOADABLE keys on SIGHUP by the main thread) and otherwise read-only. */
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
    int strategy;
    int64_t account_max_concurrency;
    int64_t session_ttl;
    char *model_map;
    int64_t cooldown_429, cooldown_429_max, cooldown_error;
    int64_t up_connect_timeout, up_first_byte_timeout, up_idle_timeout, up_total_timeout;
    bool tls_verify;
    char *ca_bundle;
    int64_t threads;
    int64_t max_connections, per_ip_connections, connection_timeout;
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
    /* upstream fidelity (issue 18) */
    int64_t cooldown_overloaded, model_unavailable_ttl, expiry_watch_idle;
    int64_t image_poll_timeout, up_video_idle_timeout;
};

extern struct settings cfg;

/* Load everything; returns 0 or -1 with a message in err. */
int config_load(char *err, size_t errlen);
void config_help(FILE *out);
void config_free(void);

#endif
