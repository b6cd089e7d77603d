/* config.c -- the settings table.  See config.h. */
#include "config.h"

#include <string.h>

#include "gg_config.h"
#include "gg_log.h"

struct settings cfg;

static const char *const thinking_choices[] = {"reasoning", "drop", NULL};
static const char *const strategy_choices[] = {"failover", "round_robin", "least_used", NULL};
static const char *const image_choices[] = {"base64", "url", NULL};

#define S(n, f, d, fl, h) {n, GG_CFG_STR, &cfg.f, d, 0, 0, NULL, fl, h}
#define I(n, f, d, lo, hi, fl, h) {n, GG_CFG_INT, &cfg.f, d, lo, hi, NULL, fl, h}
#define B(n, f, d, fl, h) {n, GG_CFG_BOOL, &cfg.f, d, 0, 0, NULL, fl, h}
#define E(n, f, d, ch, fl, h) {n, GG_CFG_ENUM, &cfg.f, d, 0, 0, ch, fl, h}

static const struct gg_cfg_entry table[] = {
    S("HOST", host, "0.0.0.0", 0, "address to listen on"),
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
    I("MAX_RETRIES", max_retries, "3", 0, 50, GG_CFG_RELOAD, "extra accounts tried before the first byte"),
    E("POOL_STRATEGY", strategy, "failover", strategy_choices, GG_CFG_RELOAD, "account selection"),
    I("ACCOUNT_MAX_CONCURRENCY", account_max_concurrency, "0", 0, 100000, GG_CFG_RELOAD, "streams per account (0 = unlimited)"),
    I("SESSION_TTL", session_ttl, "3600", 0, 86400 * 30, GG_CFG_RELOAD, "seconds a conversation keeps its upstream session"),
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
    I("THREADS", threads, "0", 0, 64, 0, "HTTP worker threads (0 = number of CPUs)"),
    I("MAX_CONNECTIONS", max_connections, "16000", 16, 1000000, 0, "client connections accepted at once"),
    I("PER_IP_CONNECTIONS", per_ip_connections, "0", 0, 1000000, 0, "client connections per IP (0 = unlimited)"),
    I("CONNECTION_TIMEOUT", connection_timeout, "120", 1, 86400, 0, "idle client connection timeout, seconds"),
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
    I("COOLDOWN_OVERLOADED", cooldown_overloaded, "10", 1, 86400, GG_CFG_RELOAD, "cooldown after a 429 LLM_OVERLOADED (capped by COOLDOWN_429)"),
    I("MODEL_UNAVAILABLE_TTL", model_unavailable_ttl, "600", 0, 86400 * 7, GG_CFG_RELOAD, "seconds a model the upstream rejected as unknown answers 404 before it is tried again"),
    I("EXPIRY_WATCH_IDLE", expiry_watch_idle, "1800", 0, 86400 * 7, GG_CFG_RELOAD, "probe accounts idle this many seconds with getoxsrf (0 = off)"),
    I("IMAGE_POLL_TIMEOUT", image_poll_timeout, "60", 0, 3600, GG_CFG_RELOAD, "seconds to poll the session's files when an image stream ended without one"),
    I("UPSTREAM_VIDEO_IDLE_TIMEOUT", up_video_idle_timeout, "900", 1, 86400, 0, "seconds allowed between upstream elements of video generation"),
};

#define NTABLE (sizeof(table) / sizeof(table[0]))

int config_load(char *err, size_t errlen)
{
    if (gg_cfg_load(table, NTABLE, ".env", err, errlen) != 0)
        return -1;
    int lvl = gg_log_parse_level(cfg.log_level);
    if (lvl < 0) {
        snprintf(err, errlen, "LOG_LEVEL: invalid value '%s' (debug|info|warn|error)", cfg.log_level);
        return -1;
    }
    gg_log_level = lvl;
    return 0;
}

void config_help(FILE *out)
{
    gg_cfg_help(table, NTABLE, out);
}

void config_free(void)
{
    gg_cfg_free(table, NTABLE);
}
