/* admin_logs.c -- see admin_logs.h */
#include "admin_logs.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_reply.h"
#include "gg_time.h"
#include "gg_util.h"
#include "http.h"
#include "pool.h"
#include "reqlog.h"
#include "store.h"
#include "storeq.h"

/* 400 validation_failed naming the query parameter. */
static enum MHD_Result bad_query(struct http_req *r, const char *param, const char *why)
{
    cJSON *fields = cJSON_CreateObject();
    if (!fields || !cJSON_AddStringToObject(fields, param, why)) {
        cJSON_Delete(fields);
        return MHD_NO;
    }
    return admin_reply_fields(r, fields);
}

static void add_pcts(cJSON *o, const char *k, const int64_t *hist)
{
    cJSON *p = cJSON_AddObjectToObject(o, k);
    const double pc[] = {50, 90, 99};
    const char *names[] = {"p50", "p90", "p99"};
    for (int i = 0; i < 3; i++) {
        int64_t v = store_hist_percentile(hist, pc[i]);
        if (v < 0 || v == INT64_MAX)
            cJSON_AddNullToObject(p, names[i]);
        else
            cJSON_AddNumberToObject(p, names[i], (double)v);
    }
}

static cJSON *stat_json(const struct store_stat_row *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "requests", (double)s->requests);
    cJSON_AddNumberToObject(o, "errors", (double)s->errors);
    cJSON *k = cJSON_AddObjectToObject(o, "errors_by_kind");
    cJSON_AddNumberToObject(k, "rate_limit", (double)s->err_rate_limit);
    cJSON_AddNumberToObject(k, "auth", (double)s->err_auth);
    cJSON_AddNumberToObject(k, "upstream", (double)s->err_upstream);
    cJSON_AddNumberToObject(k, "client", (double)s->err_client);
    cJSON_AddNumberToObject(o, "prompt_tokens", (double)s->prompt_tokens);
    cJSON_AddNumberToObject(o, "completion_tokens", (double)s->completion_tokens);
    add_pcts(o, "latency_ms", s->lat_hist);
    add_pcts(o, "ttft_ms", s->ttft_hist);
    return o;
}

enum MHD_Result admin_logs_stats(struct http_req *r, struct store *st, struct storeq *sq)
{
    const char *w = http_query(r, "window");
    if (w && strcmp(w, "1h") != 0 && strcmp(w, "24h") != 0)
        return bad_query(r, "window", "must be 1h or 24h");
    int64_t span = w && strcmp(w, "24h") == 0 ? 86400000LL : 3600000LL;
    int64_t since = gg_now_ms() - span;
    storeq_flush(sq, 2000);
    struct store_stat_row *bm = NULL, *ba = NULL;
    size_t nm = 0, na = 0;
    if (store_stats_query(st, since, "model", &bm, &nm) != STORE_OK ||
        store_stats_query(st, since, "account", &ba, &na) != STORE_OK) {
        store_stats_free(bm, nm);
        return admin_reply_store_down(r);
    }
    struct store_stat_row tot;
    memset(&tot, 0, sizeof(tot));
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "window", span > 3600000LL ? "24h" : "1h");
    char t[40];
    gg_rfc3339(since, t, sizeof(t));
    cJSON_AddStringToObject(root, "since", t);
    cJSON *bym = cJSON_CreateArray();
    for (size_t i = 0; i < nm; i++) {
        cJSON *o = stat_json(&bm[i]);
        cJSON_AddStringToObject(o, "model", bm[i].model ? bm[i].model : "-");
        cJSON_AddItemToArray(bym, o);
        tot.requests += bm[i].requests;
        tot.errors += bm[i].errors;
        tot.err_rate_limit += bm[i].err_rate_limit;
        tot.err_auth += bm[i].err_auth;
        tot.err_upstream += bm[i].err_upstream;
        tot.err_client += bm[i].err_client;
        tot.prompt_tokens += bm[i].prompt_tokens;
        tot.completion_tokens += bm[i].completion_tokens;
        for (int b = 0; b < STORE_HIST_BUCKETS; b++) {
            tot.lat_hist[b] += bm[i].lat_hist[b];
            tot.ttft_hist[b] += bm[i].ttft_hist[b];
        }
    }
    cJSON *bya = cJSON_CreateArray();
    for (size_t i = 0; i < na; i++) {
        cJSON *o = stat_json(&ba[i]);
        cJSON_AddNumberToObject(o, "account_id", (double)ba[i].account_id);
        struct account *a = pool_get(ba[i].account_id);
        cJSON_AddStringToObject(o, "account", a && a->name ? a->name : "");
        pool_put(a);
        cJSON_AddItemToArray(bya, o);
    }
    cJSON_AddItemToObject(root, "totals", stat_json(&tot));
    cJSON_AddItemToObject(root, "by_model", bym);
    cJSON_AddItemToObject(root, "by_account", bya);
    cJSON_AddItemToObject(root, "per_minute", reqlog_per_minute());
    store_stats_free(bm, nm);
    store_stats_free(ba, na);
    return http_reply_cjson(r, 200, root);
}

static const char *reject(const char **why, const char *param, const char *what)
{
    *why = what;
    return param;
}

/* A query number: decimal digits only (no sign, no spaces), in range. */
static bool query_int(const char *s, long long min, long long max, long long *out)
{
    return s[0] >= '0' && s[0] <= '9' && gg_parse_int(s, min, max, out) == 0;
}

/* The dialects a request can be logged with (dialect/ *.c `name`s). */
static const char *const known_dialects[] = {"openai", "anthropic", "responses", "gemini",
                                             "images"};

const char *admin_logs_filter(const char *limit, const char *account_id, const char *status,
                              const char *since, const char *model, const char *dialect,
                              struct store_reqlog_filter *f, const char **why)
{
    long long v;
    memset(f, 0, sizeof(*f));
    f->limit = 100;
    if (limit && *limit) {
        if (!query_int(limit, 1, 1000, &v))
            return reject(why, "limit", "must be a whole number from 1 to 1000");
        f->limit = (size_t)v;
    }
    if (account_id && *account_id) {
        if (!query_int(account_id, 0, INT64_MAX, &v))
            return reject(why, "account_id", "must be a whole number, 0 or more");
        f->account_id = v;
    }
    if (status && *status) {
        if (strlen(status) == 3 && status[0] >= '1' && status[0] <= '5' && status[1] == 'x' &&
            status[2] == 'x') {
            f->status_min = (status[0] - '0') * 100;
            f->status_max = f->status_min + 99;
        } else if (query_int(status, 100, 599, &v)) {
            f->status_min = f->status_max = (int)v;
        } else {
            return reject(why, "status", "must be a status code (100-599) or a class such as 5xx");
        }
    }
    if (since && *since) {
        int64_t t = gg_parse_time(since);
        if (t < 0)
            return reject(why, "since", "must be an RFC 3339 time");
        f->since = t > 0 ? t : 0;
    }
    f->model = model && *model ? model : NULL;
    if (dialect && *dialect) {
        for (size_t i = 0; i < sizeof(known_dialects) / sizeof(known_dialects[0]); i++)
            if (strcmp(dialect, known_dialects[i]) == 0)
                f->dialect = known_dialects[i];
        if (!f->dialect)
            return reject(why, "dialect",
                          "must be one of openai, anthropic, responses, gemini, images");
    }
    return NULL;
}

enum MHD_Result admin_logs_list(struct http_req *r, struct store *st, struct storeq *sq)
{
    struct store_reqlog_filter f;
    const char *why;
    const char *bad = admin_logs_filter(http_query(r, "limit"), http_query(r, "account_id"),
                                        http_query(r, "status"), http_query(r, "since"), http_query(r, "model"),
                                        http_query(r, "dialect"), &f, &why);
    if (bad)
        return bad_query(r, bad, why);
    storeq_flush(sq, 2000);
    struct store_reqlog *rows = NULL;
    size_t n = 0;
    if (store_reqlog_query(st, &f, &rows, &n) != STORE_OK)
        return admin_reply_store_down(r);
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "logs");
    for (size_t i = 0; i < n; i++) {
        const struct store_reqlog *x = &rows[i];
        struct account *a = x->account_id ? pool_get(x->account_id) : NULL;
        cJSON *o = reqlog_row_json(x, a ? a->name : NULL);
        pool_put(a);
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(root);
            store_reqlog_list_free(rows, n);
            return MHD_NO;
        }
    }
    store_reqlog_list_free(rows, n);
    return http_reply_cjson(r, 200, root);
}
