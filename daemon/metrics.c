/* metrics.c -- see metrics.h */
#include "metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "keys.h"
#include "gg_buf.h"
#include "gg_time.h"
#include "http.h"
#include "pool.h"
#include "reqlog.h"
#include "upstream.h"

#define NB 14
static const double bounds_s[NB] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
#define MAX_SERIES 64

struct series { char model[48]; int status; uint64_t count; };
struct hist { uint64_t b[NB + 1]; double sum; uint64_t count; };
struct kindc { char kind[24]; uint64_t count; };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct series series[MAX_SERIES];
static int n_series;
static struct hist lat, ttft;
static struct kindc kinds[16];
static int n_kinds;
static uint64_t http_requests, failovers;
static int64_t started_ms;

/* Per-key request counts of the current minute: open addressing with linear
 * probing, keyed by the whole key (colliding keys never share a count).  An
 * entry from an older minute is free; entries only go stale together at a
 * minute boundary, so a probe may stop at the first free one.  When every
 * entry is live, new keys share one overflow count. */
#define RL_SLOTS 4096
struct rl_slot { char key[24]; int64_t minute; int64_t count; };
static struct rl_slot rl[RL_SLOTS];
static struct rl_slot rl_overflow;

void metrics_http_request(void)
{
    pthread_mutex_lock(&mu);
    if (!started_ms)
        started_ms = gg_now_ms();
    http_requests++;
    pthread_mutex_unlock(&mu);
}

static void hist_add(struct hist *h, double v)
{
    int i = 0;
    while (i < NB && v > bounds_s[i])
        i++;
    h->b[i]++;
    h->sum += v;
    h->count++;
}

static void kind_add(const char *kind)
{
    for (int i = 0; i < n_kinds; i++)
        if (strcmp(kinds[i].kind, kind) == 0) {
            kinds[i].count++;
            return;
        }
    if (n_kinds < 16) {
        snprintf(kinds[n_kinds].kind, sizeof(kinds[0].kind), "%s", kind);
        kinds[n_kinds++].count = 1;
    }
}

void metrics_request_done(const char *model, int status, int64_t latency_ms, int64_t ttft_ms,
                          const char *error_kind)
{
    if (!model)
        model = "-";
    pthread_mutex_lock(&mu);
    int i;
    for (i = 0; i < n_series; i++)
        if (series[i].status == status && strcmp(series[i].model, model) == 0)
            break;
    if (i == n_series && n_series < MAX_SERIES) {
        snprintf(series[i].model, sizeof(series[i].model), "%s", model);
        series[i].status = status;
        n_series++;
    }
    if (i < n_series)
        series[i].count++;
    if (latency_ms >= 0)
        hist_add(&lat, (double)latency_ms / 1000.0);
    if (ttft_ms >= 0)
        hist_add(&ttft, (double)ttft_ms / 1000.0);
    if (error_kind)
        kind_add(error_kind);
    pthread_mutex_unlock(&mu);
}

void metrics_upstream_error(const char *kind)
{
    pthread_mutex_lock(&mu);
    kind_add(kind);
    pthread_mutex_unlock(&mu);
}

void metrics_failover(void)
{
    pthread_mutex_lock(&mu);
    failovers++;
    pthread_mutex_unlock(&mu);
}

bool metrics_rate_limited(const char *key_id)
{
    if (cfg.rate_limit_rpm <= 0)
        return false;
    int64_t minute = gg_now_ms() / 60000;
    unsigned h = 2166136261u;
    for (const char *p = key_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    pthread_mutex_lock(&mu);
    struct rl_slot *s = NULL;
    for (unsigned i = 0; i < RL_SLOTS; i++) {
        struct rl_slot *c = &rl[(h + i) % RL_SLOTS];
        if (c->minute != minute) {
            snprintf(c->key, sizeof(c->key), "%s", key_id);
            c->minute = minute;
            c->count = 0;
            s = c;
            break;
        }
        if (strncmp(c->key, key_id, sizeof(c->key) - 1) == 0) {
            s = c;
            break;
        }
    }
    if (!s) {
        s = &rl_overflow;
        if (s->minute != minute) {
            s->minute = minute;
            s->count = 0;
        }
    }
    bool limited = ++s->count > cfg.rate_limit_rpm;
    pthread_mutex_unlock(&mu);
    return limited;
}

static void hist_render(struct gg_buf *b, const char *name, const struct hist *h)
{
    uint64_t cum = 0;
    for (int i = 0; i < NB; i++) {
        cum += h->b[i];
        gg_buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, bounds_s[i], (unsigned long long)cum);
    }
    cum += h->b[NB];
    gg_buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
                  (unsigned long long)cum, name, h->sum, name, (unsigned long long)h->count);
}

enum MHD_Result metrics_handle(struct http_req *r)
{
    struct gg_buf b;
    gg_buf_init(&b, 1u << 20);
    int total, act, cool, exp, dis;
    pool_counts(&total, &act, &cool, &exp, &dis);
    pthread_mutex_lock(&mu);
    gg_buf_adds(&b, "# HELP gemgate_requests_total Chat completion requests by model and HTTP status.\n"
                    "# TYPE gemgate_requests_total counter\n");
    for (int i = 0; i < n_series; i++)
        gg_buf_printf(&b, "gemgate_requests_total{model=\"%s\",status=\"%d\"} %llu\n", series[i].model,
                      series[i].status, (unsigned long long)series[i].count);
    gg_buf_adds(&b, "# HELP gemgate_request_duration_seconds Chat completion latency.\n"
                    "# TYPE gemgate_request_duration_seconds histogram\n");
    hist_render(&b, "gemgate_request_duration_seconds", &lat);
    gg_buf_adds(&b, "# HELP gemgate_time_to_first_token_seconds Time to the first answer or reasoning byte.\n"
                    "# TYPE gemgate_time_to_first_token_seconds histogram\n");
    hist_render(&b, "gemgate_time_to_first_token_seconds", &ttft);
    gg_buf_adds(&b, "# HELP gemgate_errors_total Failed requests by kind.\n# TYPE gemgate_errors_total counter\n");
    for (int i = 0; i < n_kinds; i++)
        gg_buf_printf(&b, "gemgate_errors_total{kind=\"%s\"} %llu\n", kinds[i].kind, (unsigned long long)kinds[i].count);
    gg_buf_printf(&b, "# HELP gemgate_http_requests_total HTTP requests received.\n# TYPE gemgate_http_requests_total counter\n"
                      "gemgate_http_requests_total %llu\n", (unsigned long long)http_requests);
    gg_buf_printf(&b, "# HELP gemgate_failovers_total Account failovers.\n# TYPE gemgate_failovers_total counter\n"
                      "gemgate_failovers_total %llu\n", (unsigned long long)failovers);
    pthread_mutex_unlock(&mu);
    gg_buf_printf(&b, "# HELP gemgate_active_streams Upstream exchanges in flight.\n# TYPE gemgate_active_streams gauge\n"
                      "gemgate_active_streams %d\n", upstream_active());
    gg_buf_printf(&b, "# HELP gemgate_connections Client connections open.\n# TYPE gemgate_connections gauge\n"
                      "gemgate_connections %d\n", http_connections());
    gg_buf_printf(&b, "# HELP gemgate_accounts Accounts by state.\n# TYPE gemgate_accounts gauge\n"
                      "gemgate_accounts{state=\"active\"} %d\ngemgate_accounts{state=\"cooldown\"} %d\n"
                      "gemgate_accounts{state=\"expired\"} %d\ngemgate_accounts{state=\"disabled\"} %d\n",
                  act, cool, exp, dis);
    gg_buf_printf(&b, "# HELP gemgate_store_dropped_total Store writes dropped (queue full or store down).\n"
                      "# TYPE gemgate_store_dropped_total counter\ngemgate_store_dropped_total %llu\n",
                  (unsigned long long)reqlog_store_dropped());
    keys_metrics(&b);   /* client keys by name (issue 15) */
    enum MHD_Result ret = http_reply(r, 200, "text/plain; version=0.0.4", b.p ? b.p : "", b.len);
    gg_buf_free(&b);
    return ret;
}
