/* config.c -- the settings table.  See config.h. */
#include "config.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gg_config.h"
#include "gg_log.h"
#include "gg_time.h"

/* A snapshot: the settings first, so a settings pointer is a snap pointer. */
struct snap {
    struct settings s;
    atomic_int refs;
    int64_t retired_ms;
    struct snap *next;              /* retired list */
};

static struct settings boot_settings;   /* before config_load (unit tests) */
static struct snap *_Atomic current;
static _Thread_local const struct settings *pinned;
static pthread_mutex_t retired_mu = PTHREAD_MUTEX_INITIALIZER;
static struct snap *retired;        /* [retired_mu] */

static const char *const thinking_choices[] = {"reasoning", "drop", NULL};
static const char *const strategy_choices[] = {"failover", "round_robin", "least_used", NULL};
static const char *const image_choices[] = {"base64", "url", NULL};

#define OFF(f) offsetof(struct settings, f)
#define S(n, f, d, fl, h) {n, GG_CFG_STR, OFF(f), d, 0, 0, NULL, fl, h}
#define I(n, f, d, lo, hi, fl, h) {n, GG_CFG_INT, OFF(f), d, lo, hi, NULL, fl, h}
#define B(n, f, d, fl, h) {n, GG_CFG_BOOL, OFF(f), d, 0, 0, NULL, fl, h}
#define E(n, f, d, ch, fl, h) {n, GG_CFG_ENUM, OFF(f), d, 0, 0, ch, fl, h}

static const struct gg_cfg_entry table[] = {
    S("HOST", host, NULL, 0, "address to listen on (default: 0.0.0.0 with an API_KEY, else 127.0.0.1 only)"),
    I("PORT", port, "7860", 0, 65535, 0, "TCP port (0 = ephemeral)"),
    S("PORT_FILE", port_file, NULL, 0, "write the bound port to this file (for tests)"),
    S("DATA_DIR", data_dir, "./data", 0, "directory of the embedded SQLite store"),
    S("DATABASE_URL", database_url, NULL, GG_CFG_SECRET, "postgresql://... or sqlite:///path; empty = SQLite in DATA_DIR"),
    S("API_KEY", api_key, NULL, GG_CFG_SECRET | GG_CFG_RELOAD, "comma-separated keys OpenAI clients must send; empty = no auth"),
    S("ADMIN_KEY", admin_key, NULL, GG_CFG_SECRET | GG_CFG_RELOAD, "admin API key (default: the API_KEY when exactly one, else generated)"),
    S("TRUSTED_PROXIES", trusted_proxies, NULL, 0, "reverse proxies (CIDR list) whose X-Forwarded-For names the client for the admin lockout"),
    S("SECURE_C_SES", secure_c_ses, NULL, GG_CFG_SECRET, "__Secure-C_SES cookie of the environment account"),
    S("HOST_C_OSES", host_c_oses, NULL, GG_CFG_SECRET, "__Host-C_OSES cookie of the environment account (optional)"),
    S("CSESIDX", csesidx, NULL, 0, "csesidx of the environment account"),
    S("CONFIG_ID", config_id, NULL, 0, "config id of the environment account"),
    S("PROXY", proxy, NULL, GG_CFG_SECRET, "outbound proxy URL (http://, socks5://)"),
    S("GEMINI_AUTH_URL", auth_url, "https://business.gemini.google", 0, "auth base URL (getoxsrf)"),
    S("GEMINI_API_URL", api_url, "https://biz-discoveryengine.googleapis.com", 0, "widget API base URL"),
    I("PING_INTERVAL", ping_interval, "15", 0, 3600, GG_CFG_RELOAD, "seconds between SSE keep-alive comments (0 = off)"),
    E("THINKING", thinking, "reasoning", thinking_choices, GG_CFG_RELOAD, "where thinking goes"),
    S("LOG_LEVEL", log_level, "info", GG_CFG_RELOAD, "debug|info|warn|error"),
    I("MAX_BODY", max_body, "20971520", 1024, 1LL << 30, 0, "request body limit in bytes (413 above)"),
    I("TOOL_RETRY", tool_retry, "1", 0, 5, GG_CFG_RELOAD, "corrective retries of an invalid tool call (same session)"),
    I("MAX_RETRIES", max_retries, "3", 0, 50, GG_CFG_RELOAD, "extra accounts tried before the first byte"),
    E("POOL_STRATEGY", strategy, "failover", strategy_choices, GG_CFG_RELOAD, "account selection"),
    I("ACCOUNT_MAX_CONCURRENCY", account_max_concurrency, "0", 0, 100000, GG_CFG_RELOAD, "streams per account (0 = unlimited)"),
    I("SESSION_TTL", session_ttl, "3600", 0, 86400 * 30, GG_CFG_RELOAD, "seconds a conversation keeps its upstream session"),
    I("SESSION_CACHE_MAX", session_cache_max, "16384", 0, 4000000, 0, "conversations kept in memory (256 bytes each; older ones are read back from the store)"),
    S("MODEL_MAP", model_map, NULL, GG_CFG_RELOAD, "extra aliases, e.g. gpt-4o=gemini-2.5-flash,o1=gemini-2.5-pro"),
    I("COOLDOWN_429", cooldown_429, "60", 1, 86400, GG_CFG_RELOAD, "first cooldown after a 429, doubled per repeat"),
    I("COOLDOWN_429_MAX", cooldown_429_max, "7200", 1, 86400 * 7, GG_CFG_RELOAD, "longest 429 cooldown"),
    I("COOLDOWN_ERROR", cooldown_error, "20", 1, 86400, GG_CFG_RELOAD, "cooldown after network errors and 5xx"),
    I("UPSTREAM_CONNECT_TIMEOUT", up_connect_timeout, "15", 1, 600, 0, "seconds to connect upstream"),
    I("UPSTREAM_FIRST_BYTE_TIMEOUT", up_first_byte_timeout, "300", 1, 3600, 0, "seconds to the first upstream element"),
    I("UPSTREAM_IDLE_TIMEOUT", up_idle_timeout, "300", 1, 3600, 0, "seconds allowed between upstream elements"),
    I("UPSTREAM_TOTAL_TIMEOUT", up_total_timeout, "900", 1, 86400, 0, "seconds for a whole upstream exchange"),
    B("TLS_VERIFY", tls_verify, "true", 0, "verify upstream TLS certificates"),
    S("CA_BUNDLE", ca_bundle, NULL, 0, "CA bundle file for upstream TLS"),
    I("THREADS", threads, "0", 0, 64, 0, "HTTP worker threads (0 = the CPUs this process may run on, at most 8)"),
    I("UPSTREAM_LOOPS", upstream_loops, "0", 0, 64, 0, "upstream event loop threads (0 = number of CPUs this process may use)"),
    B("UPSTREAM_GZIP_STREAMS", up_gzip_streams, "false", 0, "ask the upstream for gzip on streamed answers (costs ~40 KiB of inflate state per stream)"),
    B("UPSTREAM_GZIP_ANSWERS", up_gzip_answers, "false", 0, "ask the upstream for gzip on non-streamed answers (fewer bytes; inflating costs ~8% of the CPU of a short request)"),
    I("MAX_CONNECTIONS", max_connections, "16000", 16, 1000000, 0, "client connections accepted at once"),
    I("PER_IP_CONNECTIONS", per_ip_connections, "64", 0, 1000000, 0, "client connections per IP address (0 = unlimited)"),
    I("CONNECTION_TIMEOUT", connection_timeout, "120", 1, 86400, 0, "idle client connection timeout, seconds"),
    I("REQUEST_TIMEOUT", request_timeout, "30", 1, 3600, 0, "seconds to receive a request body once its headers are in (the connection is closed after)"),
    S("METRICS_KEY", metrics_key, NULL, GG_CFG_SECRET | GG_CFG_RELOAD, "when set, /metrics and /readyz need it as a Bearer token (/healthz stays open)"),
    S("CORS_ORIGINS", cors_origins, NULL, GG_CFG_RELOAD, "comma-separated allowed origins for the OpenAI API, or *"),
    S("SECRET_KEY", secret_key, NULL, GG_CFG_SECRET, "encrypts account cookies at rest (AES-256-GCM)"),
    S("SECRET_KEY_OLD", secret_key_old, NULL, GG_CFG_SECRET, "previous keys, comma-separated, for rotation"),
    I("LOG_RETENTION_DAYS", log_retention_days, "30", 0, 3650, GG_CFG_RELOAD, "request-log retention (0 = keep)"),
    S("WEB_DIR", web_dir, NULL, 0, "built web console directory (default: next to the binary or web/dist)"),
    S("LANGUAGE_CODE", language_code, "en-US", GG_CFG_RELOAD, "languageCode sent upstream"),
    S("TIME_ZONE", time_zone, "Etc/UTC", GG_CFG_RELOAD, "userMetadata.timeZone sent upstream"),
    I("RATE_LIMIT_RPM", rate_limit_rpm, "0", 0, 10000000, GG_CFG_RELOAD, "requests per minute per API key (0 = off)"),
    E("IMAGE_OUTPUT", image_output, "base64", image_choices, GG_CFG_RELOAD, "generated images as data URLs or gateway URLs"),
    I("IMAGE_MAX_BYTES", image_max_bytes, "20971520", 1024, 1LL << 30, 0, "largest attachment fetched or accepted"),
    B("FETCH_ALLOW_PRIVATE", fetch_allow_private, "false", GG_CFG_RELOAD, "let image URLs reach loopback/private addresses"),
    I("FETCH_TIMEOUT", fetch_timeout, "30", 1, 600, GG_CFG_RELOAD, "seconds to fetch one image URL"),
    I("IMAGE_URL_TTL", image_url_ttl, "3600", 60, 86400 * 7, GG_CFG_RELOAD, "seconds a generated image stays at its /images/ URL"),
    S("PUBLIC_URL", public_url, NULL, GG_CFG_RELOAD, "base URL for /images/ links (default: http://<Host header>)"),
    I("SHUTDOWN_GRACE", shutdown_grace, "20", 0, 3600, 0, "seconds streams may finish after SIGTERM"),
    I("STOREQ_CAPACITY", storeq_capacity, "50000", 100, 10000000, 0, "queued store writes before dropping"),
    I("MALLOC_TCACHE_MAX", malloc_tcache_max, "256", 0, 4096, 0, "largest block each thread's malloc cache keeps, bytes (glibc.malloc.tcache_max, set by re-executing once at start; 0 = glibc's 1032)"),
    I("COOLDOWN_OVERLOADED", cooldown_overloaded, "10", 1, 86400, GG_CFG_RELOAD, "cooldown after a 429 LLM_OVERLOADED (capped by COOLDOWN_429)"),
    I("MODEL_UNAVAILABLE_TTL", model_unavailable_ttl, "600", 0, 86400 * 7, GG_CFG_RELOAD, "seconds a model the upstream rejected as unknown answers 404 before it is tried again"),
    I("EXPIRY_WATCH_IDLE", expiry_watch_idle, "1800", 0, 86400 * 7, GG_CFG_RELOAD, "probe accounts idle this many seconds with getoxsrf (0 = off)"),
    I("IMAGE_POLL_TIMEOUT", image_poll_timeout, "60", 0, 3600, GG_CFG_RELOAD, "seconds to poll the session's files when an image stream ended without one"),
    I("UPSTREAM_VIDEO_IDLE_TIMEOUT", up_video_idle_timeout, "900", 1, 86400, 0, "seconds allowed between upstream elements of video generation"),
};

#define NTABLE (sizeof(table) / sizeof(table[0]))

struct settings *config_now(void)
{
    if (pinned)
        return (struct settings *)(uintptr_t)pinned;
    struct snap *c = atomic_load_explicit(&current, memory_order_acquire);
    return c ? &c->s : &boot_settings;
}

const struct settings *config_acquire(void)
{
    /* The current snapshot cannot be freed between the load and the
     * increment: a replaced one lives at least CONFIG_GRACE_S seconds. */
    struct snap *c = atomic_load_explicit(&current, memory_order_acquire);
    if (!c)
        return &boot_settings;
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return &c->s;
}

void config_release(const struct settings *s)
{
    if (!s || s == &boot_settings)
        return;
    struct snap *c = (struct snap *)(void *)(uintptr_t)s;
    atomic_fetch_sub_explicit(&c->refs, 1, memory_order_release);
}

const struct settings *config_pin(const struct settings *s)
{
    const struct settings *old = pinned;
    pinned = s;
    return old;
}

static void snap_free(struct snap *c)
{
    gg_cfg_free(table, NTABLE, &c->s);
    free(c);
}

static void publish(struct snap *n)
{
    struct snap *old = atomic_exchange_explicit(&current, n, memory_order_acq_rel);
    if (!old)
        return;
    pthread_mutex_lock(&retired_mu);
    old->retired_ms = gg_mono_ms();
    old->next = retired;
    retired = old;
    pthread_mutex_unlock(&retired_mu);
}

void config_reap(void)
{
    int64_t now = gg_mono_ms();
    pthread_mutex_lock(&retired_mu);
    for (struct snap **pp = &retired; *pp;) {
        struct snap *c = *pp;
        if (now - c->retired_ms >= CONFIG_GRACE_S * 1000 &&
            atomic_load_explicit(&c->refs, memory_order_acquire) == 0) {
            *pp = c->next;
            snap_free(c);
        } else {
            pp = &c->next;
        }
    }
    pthread_mutex_unlock(&retired_mu);
}

static int apply_log_level(const struct settings *s, char *err, size_t errlen)
{
    int lvl = gg_log_parse_level(s->log_level);
    if (lvl < 0) {
        snprintf(err, errlen, "LOG_LEVEL: invalid value '%s' (debug|info|warn|error)", s->log_level);
        return -1;
    }
    if (gg_log_level != lvl) /* written only on change: readers race only then */
        gg_log_level = lvl;
    return 0;
}

int config_load(char *err, size_t errlen)
{
    struct snap *n = calloc(1, sizeof(*n));
    if (!n) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (gg_cfg_load(table, NTABLE, &n->s, ".env", err, errlen) != 0 || apply_log_level(&n->s, err, errlen) != 0) {
        snap_free(n);
        return -1;
    }
    /* The start-up snapshot is never freed before exit: start-up code may
     * have kept pointers into it (paths, URLs, keys handed to modules). */
    if (!atomic_load(&current))
        atomic_fetch_add(&n->refs, 1);
    publish(n);
    return 0;
}

int config_reload(char *err, size_t errlen)
{
    struct snap *cur = atomic_load_explicit(&current, memory_order_acquire);
    struct snap *n = calloc(1, sizeof(*n));
    if (!n || !cur) {
        snprintf(err, errlen, "out of memory");
        free(n);
        return -1;
    }
    if (gg_cfg_load(table, NTABLE, &n->s, ".env", err, errlen) != 0 || apply_log_level(&n->s, err, errlen) != 0)
        goto fail;
    int changed = 0;
    for (size_t i = 0; i < NTABLE; i++) {
        const struct gg_cfg_entry *e = &table[i];
        if (gg_cfg_equal(e, &cur->s, &n->s))
            continue;
        if (!(e->flags & GG_CFG_RELOAD)) {
            GG_WARN("SIGHUP: %s changed but needs a restart; keeping the running value", e->name);
            if (gg_cfg_copy(e, &n->s, &cur->s) != 0) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            continue;
        }
        changed++;
        const char *a = (const char *)&cur->s + e->off, *b = (const char *)&n->s + e->off;
        if (e->flags & GG_CFG_SECRET) {
            GG_INFO("SIGHUP: %s changed", e->name);
        } else if (e->type == GG_CFG_STR) {
            const char *x = *(char *const *)(const void *)a, *y = *(char *const *)(const void *)b;
            GG_INFO("SIGHUP: %s '%s' -> '%s'", e->name, x ? x : "", y ? y : "");
        } else if (e->type == GG_CFG_INT) {
            GG_INFO("SIGHUP: %s %lld -> %lld", e->name, (long long)*(const int64_t *)(const void *)a,
                    (long long)*(const int64_t *)(const void *)b);
        } else if (e->type == GG_CFG_BOOL) {
            GG_INFO("SIGHUP: %s %s -> %s", e->name, *(const bool *)(const void *)a ? "true" : "false",
                    *(const bool *)(const void *)b ? "true" : "false");
        } else {
            GG_INFO("SIGHUP: %s %s -> %s", e->name, e->choices[*(const int *)(const void *)a],
                    e->choices[*(const int *)(const void *)b]);
        }
    }
    publish(n);
    return changed;
fail:
    snap_free(n);
    return -1;
}

int config_install(const struct settings *s)
{
    struct snap *n = calloc(1, sizeof(*n));
    if (!n)
        return -1;
    for (size_t i = 0; i < NTABLE; i++)
        if (gg_cfg_copy(&table[i], &n->s, s) != 0) {
            snap_free(n);
            return -1;
        }
    publish(n);
    return 0;
}

void config_help(FILE *out)
{
    gg_cfg_help(table, NTABLE, out);
}

void config_free(void)
{
    struct snap *c = atomic_exchange(&current, NULL);
    /* (the start-up snapshot's permanent reference dies with it) */
    if (c)
        snap_free(c);
    pthread_mutex_lock(&retired_mu);
    while (retired) {
        struct snap *r = retired;
        retired = r->next;
        snap_free(r);
    }
    pthread_mutex_unlock(&retired_mu);
}

int config_cpus(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    long n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 1024 ? 1024 : (int)n;
}
