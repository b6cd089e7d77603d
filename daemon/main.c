/* main.c -- gemgated: start-up, signals, housekeeping, shutdown. */
#include <curl/curl.h>
#include <errno.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "admin.h"
#include "auth.h"
#include "cluster.h"
#include "config.h"
#include "gg_log.h"
#include "gg_time.h"
#include "http.h"
#include "metrics.h"
#include "exch_keys.h"
#include "keys.h"
#include "keys_store.h"
#include "models.h"
#include "pool.h"
#include "reqlog.h"
#include "routes.h"
#include "sessions.h"
#include "store.h"
#include "storeq.h"
#include "toolcall.h"
#include "upstream.h"

static volatile sig_atomic_t got_term, got_hup;
static struct store *store;
static struct storeq *queue;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        got_hup = 1;
    else
        got_term = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: gemgated [--help] [--version] [--check-config] [--reencrypt] [--new-admin-key]\n\n"
            "gemgate %s: an OpenAI-compatible gateway over Gemini Business accounts.\n"
            "Settings come from the environment, then .env in the working directory, then defaults:\n\n",
            GEMGATE_VERSION);
    config_help(out);
    fprintf(out, "\nSignals: SIGTERM/SIGINT drain and exit; SIGHUP reloads keys and pool settings.\n");
}

static void on_account_change(const struct account *a, bool state_changed)
{
    if (a->from_env || !queue)      /* id and from_env never change */
        return;
    struct pool_state st;           /* other threads pick and report on a meanwhile */
    pool_state_of(a, &st);
    storeq_put_touch(queue, a->id, st.last_used_at, 0, 0);
    if (state_changed) {
        storeq_put_state(queue, a->id, pool_status_name(st.status), st.reason[0] ? st.reason : NULL,
                         st.status == ST_COOLDOWN ? st.until_ms : 0, st.fail_count);
        reqlog_account_event(pool_account_json(a));
    }
}

static void account_name(int64_t id, char *buf, size_t n)
{
    struct account *a = pool_get(id);
    if (a && a->name)
        snprintf(buf, n, "%s", a->name);
    pool_put(a);
}

static int load_accounts(void)
{
    struct store_account *rows = NULL;
    size_t n = 0;
    if (store_account_list(store, &rows, &n) != STORE_OK) {
        GG_ERROR("cannot read accounts: %s", store_last_error());
        return -1;
    }
    bool env_dup = false;
    for (size_t i = 0; i < n; i++) {
        pool_add(&rows[i], false);
        if (cfg.csesidx && cfg.config_id && rows[i].csesidx && rows[i].config_id &&
            strcmp(rows[i].csesidx, cfg.csesidx) == 0 && strcmp(rows[i].config_id, cfg.config_id) == 0)
            env_dup = true;
    }
    store_account_list_free(rows, n);
    if (cfg.secure_c_ses && *cfg.secure_c_ses) {
        if (!cfg.csesidx || !*cfg.csesidx || !cfg.config_id || !*cfg.config_id) {
            GG_ERROR("SECURE_C_SES is set but CSESIDX or CONFIG_ID is missing");
            return -1;
        }
        if (env_dup) {
            GG_INFO("environment account %s is also in the store; using the stored one", cfg.csesidx);
        } else {
            struct store_account env = {
                .name = "env", .secure_c_ses = cfg.secure_c_ses, .host_c_oses = cfg.host_c_oses,
                .csesidx = cfg.csesidx, .config_id = cfg.config_id, .is_active = true, .status = "active",
            };
            pool_add(&env, true);
        }
    }
    GG_INFO("account pool: %d account(s)", pool_size());
    return 0;
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void reload(void)
{
    char err[512];
    int changed = config_reload(err, sizeof(err));
    if (changed < 0) {
        GG_ERROR("SIGHUP: configuration rejected, keeping the old one: %s", err);
        return;
    }
    auth_reload(store);
    if (models_set_map(cfg.model_map, err, sizeof(err)) != 0)
        GG_ERROR("SIGHUP: %s", err);
    GG_INFO("SIGHUP: reloaded (%d setting%s changed; immutable settings such as PORT need a restart)",
            changed, changed == 1 ? "" : "s");
}

/* ---- /metrics values owned by other modules ---- */

static double g_streams(void *arg) { (void)arg; return upstream_active(); }
static double g_conns(void *arg) { (void)arg; return http_connections(); }
static double g_requests(void *arg) { (void)arg; return (double)http_requests_total(); }
static double g_dropped(void *arg) { (void)arg; return (double)reqlog_store_dropped(); }
static double g_accounts(void *arg)
{
    int c[5];
    pool_counts(&c[0], &c[1], &c[2], &c[3], &c[4]);
    return c[(intptr_t)arg];
}

static void register_metrics(void)
{
    metrics_register_text(pool_signin_metrics);
    metrics_register_text(keys_metrics);        /* client keys by name */
    http_set_key_hook(exch_keys_http_check);
    metrics_register("gemgate_active_streams", NULL, "gauge", "Upstream exchanges in flight.", g_streams, NULL);
    metrics_register("gemgate_connections", NULL, "gauge", "Client connections open.", g_conns, NULL);
    static const char *const states[] = {"state=\"active\"", "state=\"cooldown\"", "state=\"expired\"",
                                         "state=\"disabled\""};
    for (intptr_t i = 0; i < 4; i++)
        metrics_register("gemgate_accounts", states[i], "gauge", "Accounts by state.", g_accounts, (void *)(i + 1));
    metrics_register("gemgate_http_requests_total", NULL, "counter", "HTTP requests received.", g_requests, NULL);
    metrics_register("gemgate_store_dropped_total", NULL, "counter",
                     "Store writes dropped (queue full or store down).", g_dropped, NULL);
    metrics_register_text(toolcall_metrics);    /* gemgate_tool_* (emulated tools) */
}

/* glibc reads its malloc tunables only at exec: set glibc.malloc.tcache_max
 * (MALLOC_TCACHE_MAX) by executing this binary once more.  The HTTP worker
 * threads free strings of every size up to 1 KiB; glibc's per-thread cache
 * keeps 7 of each size class, and those blocks, scattered over the arena,
 * keep ~1 MB of its pages resident after a burst that malloc_trim cannot
 * return.  Skipped when the operator's GLIBC_TUNABLES names the tunable
 * (which also ends the re-execution), under valgrind and the sanitizers;
 * when exec fails gemgated runs on with glibc's default. */
static void alloc_tune(char **argv)
{
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    const char *old = getenv("GLIBC_TUNABLES"), *pre = getenv("LD_PRELOAD");
    if (cfg.malloc_tcache_max <= 0 || (old && strstr(old, "glibc.malloc.tcache_max")) ||
        (pre && strstr(pre, "vgpreload")))
        return;
    char v[1024];
    int n = snprintf(v, sizeof(v), "glibc.malloc.tcache_max=%lld%s%s", (long long)cfg.malloc_tcache_max,
                     old && *old ? ":" : "", old ? old : "");
    char *keep = old ? strdup(old) : NULL;
    if (n < 0 || (size_t)n >= sizeof(v) || (old && !keep) || setenv("GLIBC_TUNABLES", v, 1) != 0) {
        free(keep);
        return;
    }
    execv("/proc/self/exe", argv);
    if (keep)
        setenv("GLIBC_TUNABLES", keep, 1);
    else
        unsetenv("GLIBC_TUNABLES");
    free(keep);
#else
    (void)argv;
#endif
}

int main(int argc, char **argv)
{
    bool check_only = false, reencrypt = false, new_admin_key = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("gemgated %s\n", GEMGATE_VERSION);
            return 0;
        }
        if (strcmp(argv[i], "--check-config") == 0) {
            check_only = true;
            continue;
        }
        if (strcmp(argv[i], "--reencrypt") == 0) {
            reencrypt = true;
            continue;
        }
        if (strcmp(argv[i], "--new-admin-key") == 0) { /* sec: finding 16.2 */
            new_admin_key = true;
            continue;
        }
        fprintf(stderr, "gemgated: unknown option '%s'\n", argv[i]);
        usage(stderr);
        return 2;
    }
    char err[512];
    if (config_load(err, sizeof(err)) != 0) {
        fprintf(stderr, "gemgated: configuration error: %s\n", err);
        return 2;
    }
    if (models_set_map(cfg.model_map, err, sizeof(err)) != 0) {
        fprintf(stderr, "gemgated: configuration error: %s\n", err);
        return 2;
    }
    if (check_only) {
        printf("configuration ok\n");
        return 0;
    }
    alloc_tune(argv);
    auth_harden_process(".env"); /* sec: no core dumps, .env mode check */
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = 1;
    store = store_open(cfg.database_url, cfg.data_dir, cfg.secret_key, cfg.secret_key_old, err, sizeof(err));
    if (!store) {
        GG_ERROR("cannot open the store: %s", err);
        goto out;
    }
    GG_INFO("store: %s (schema %d)", store_backend_name(store), store_schema_version(store));
    if (new_admin_key) { /* sec: finding 16.2 */
        rc = auth_new_admin_key(store) == 0 ? 0 : 1;
        goto out;
    }
    if (reencrypt) {
        int64_t count = 0;
        if (store_reencrypt(store, &count) != STORE_OK) {
            GG_ERROR("re-encryption failed: %s", store_last_error());
            goto out;
        }
        printf("re-encrypted %lld account(s)\n", (long long)count);
        rc = 0;
        goto out;
    }
    queue = storeq_start(store, (size_t)cfg.storeq_capacity);
    if (!queue) {
        GG_ERROR("cannot start the store writer");
        goto out;
    }
    pool_init();
    pool_set_change_cb(on_account_change);
    if (load_accounts() != 0)
        goto out;
    auth_reload(store);
    if (cluster_start(cfg.database_url, store) != 0)
        GG_WARN("cluster: cannot start the change listener");
    sessions_init(store, queue);
    keys_store_start(store, queue, strcmp(store_backend_name(store), "postgresql") == 0);
    reqlog_init(queue);
    if (reqlog_preload(store, account_name) < 0)
        GG_WARN("cannot read the recent request log from the store: the live log starts empty");
    admin_init(store, queue);
    if (upstream_start() != 0) {
        GG_ERROR("cannot start the upstream thread");
        goto out;
    }
    register_metrics();
    size_t n_routes;
    const struct http_route *routes = routes_table(&n_routes);
    if (http_start(routes, n_routes) != 0)
        goto out_up;
    GG_INFO("gemgated %s listening on %s:%u (auth %s, api %s)", GEMGATE_VERSION, http_bound_host(), http_port(),
            cfg.auth_url, cfg.api_url);
    if (cfg.port_file && *cfg.port_file) {
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp", cfg.port_file);
        FILE *f = fopen(tmp, "w");
        if (f) {
            fprintf(f, "%u\n", http_port());
            fclose(f);
            rename(tmp, cfg.port_file);
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    int64_t last_purge = 0;
    while (!got_term) {
        sleep(1); /* a signal ends it early (no SA_RESTART): a SIGHUP is applied at once */
        if (got_hup) {
            got_hup = 0;
            reload();
        }
        config_reap();
        sessions_expire();
        reqlog_tick();
        int64_t now = gg_now_ms();
        if (now - last_purge > 3600 * 1000) {
            last_purge = now;
            if (cfg.log_retention_days > 0) {
                int64_t deleted = 0;
                store_reqlog_purge(store, now - cfg.log_retention_days * 86400000LL, 5000, &deleted);
                if (deleted)
                    GG_INFO("retention: deleted %lld request-log rows", (long long)deleted);
            }
            if (cfg.session_ttl > 0)
                store_session_purge(store, now - cfg.session_ttl * 1000);
        }
    }
    GG_INFO("shutting down: draining streams for up to %lld s", (long long)cfg.shutdown_grace);
    http_quiesce();
    int64_t deadline = gg_now_ms() + cfg.shutdown_grace * 1000;
    upstream_drain(deadline);
    while (upstream_active() > 0 && gg_now_ms() < deadline + 2000)
        usleep(50 * 1000);
    reqlog_shutdown();
    usleep(100 * 1000);
    rc = 0;
    http_stop();
out_up:
    upstream_stop();
out:
    keys_store_stop();
    cluster_stop();
    if (queue)
        storeq_stop(queue, 5000);
    sessions_shutdown();
    pool_shutdown();
    auth_free();
    if (store)
        store_close(store);
    models_set_map(NULL, err, sizeof(err));
    config_free();
    curl_global_cleanup();
    GG_INFO("bye (exit %d)", rc);
    return rc;
}
