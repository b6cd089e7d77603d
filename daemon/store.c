/* store.c -- the store front: URL dispatch, statistics aggregation, shared
 * SQL and helpers.  Accounts and their secrets at rest: store_accounts.c.
 * See store.h (API) and store_internal.h (backend vtable).
 */
#include "store_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gg_buf.h"
#include "gg_time.h"
#include "gg_util.h"
#include "secretbox.h"

#define HOUR_MS 3600000LL
#define STATS_KEEP_MS (400LL * 24 * HOUR_MS)

const int64_t store_hist_bounds_ms[STORE_HIST_BUCKETS] = {
    10, 25, 50, 75, 100, 150, 200, 300, 400, 500, 750, 1000,
    1500, 2000, 3000, 4000, 5000, 7500, 10000, 15000, 20000, 30000, 60000, INT64_MAX
};

static _Thread_local char last_error[512];

void store_set_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(last_error, sizeof(last_error), fmt, ap);
    va_end(ap);
}

const char *store_last_error(void)
{
    return last_error;
}

/* ---- small shared helpers ---------------------------------------------- */

int64_t store_hist_percentile(const int64_t *hist, double pct)
{
    int64_t total = 0, rank, cum = 0;

    for (int i = 0; i < STORE_HIST_BUCKETS; i++)
        total += hist[i] > 0 ? hist[i] : 0;
    if (total == 0)
        return -1;
    if (pct < 0)
        pct = 0;
    if (pct > 100)
        pct = 100;
    rank = (int64_t)((pct / 100.0) * (double)total + 0.999999);
    if (rank < 1)
        rank = 1;
    for (int i = 0; i < STORE_HIST_BUCKETS; i++) {
        cum += hist[i] > 0 ? hist[i] : 0;
        if (cum >= rank)
            return store_hist_bounds_ms[i];
    }
    return store_hist_bounds_ms[STORE_HIST_BUCKETS - 1];
}

static int hist_bucket(int64_t ms)
{
    int i = 0;

    while (i < STORE_HIST_BUCKETS - 1 && ms > store_hist_bounds_ms[i])
        i++;
    return i;
}

void store_mask_url(const char *url, char *out, size_t n)
{
    const char *scheme, *at, *colon, *pw;
    struct gg_buf b;

    if (n < 8)
        return;
    out[0] = '\0';
    if (!url)
        return;
    gg_buf_init(&b, 4096);
    scheme = strstr(url, "://");
    at = scheme ? strchr(scheme + 3, '@') : NULL;
    colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
    if (colon) {
        gg_buf_add(&b, url, (size_t)(colon - url + 1));
        gg_buf_adds(&b, "***");
        gg_buf_adds(&b, at);
    } else {
        gg_buf_adds(&b, url);
    }
    /* password=... in a query string or key/value conninfo */
    pw = b.p ? strstr(b.p, "password=") : NULL;
    if (pw) {
        size_t off = (size_t)(pw - b.p) + 9, end = off;

        while (end < b.len && b.p[end] != '&' && b.p[end] != ' ')
            end++;
        memmove(b.p + off + 3, b.p + end, b.len - end + 1);
        memcpy(b.p + off, "***", 3);
    }
    snprintf(out, n, "%s", b.p ? b.p : "");
    gg_buf_free(&b);
}

static int add_hist_cols(struct gg_buf *b, const char *pre, const char *post)
{
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < STORE_HIST_BUCKETS; i++)
            if (gg_buf_printf(b, "%s%c%d%s", pre, p ? 't' : 'l', i, post) != 0)
                return -1;
    return 0;
}

static const char *const stat_cols[] = {
    "requests", "errors", "err_rate_limit", "err_auth", "err_upstream", "err_client",
    "prompt_tokens", "completion_tokens"
};
#define NSTATCOLS (sizeof(stat_cols) / sizeof(stat_cols[0]))

char *store_sql_stats_upsert(char ph)
{
    struct gg_buf b;
    int rc = -1;

    gg_buf_init(&b, 1 << 16);
    if (gg_buf_adds(&b, "INSERT INTO stats_hourly (hour, model, account_id") != 0)
        goto out;
    for (size_t i = 0; i < NSTATCOLS; i++)
        if (gg_buf_printf(&b, ", %s", stat_cols[i]) != 0)
            goto out;
    if (add_hist_cols(&b, ", ", "") != 0 || gg_buf_adds(&b, ") VALUES (") != 0)
        goto out;
    for (int i = 1; i <= STORE_STAT_NCOLS; i++)
        if (gg_buf_printf(&b, "%s%c%d", i > 1 ? ", " : "", ph, i) != 0)
            goto out;
    if (gg_buf_adds(&b, ") ON CONFLICT (hour, model, account_id) DO UPDATE SET ") != 0)
        goto out;
    for (size_t i = 0; i < NSTATCOLS; i++)
        if (gg_buf_printf(&b, "%s%s = stats_hourly.%s + excluded.%s", i ? ", " : "",
                          stat_cols[i], stat_cols[i], stat_cols[i]) != 0)
            goto out;
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < STORE_HIST_BUCKETS; i++)
            if (gg_buf_printf(&b, ", %c%d = stats_hourly.%c%d + excluded.%c%d",
                              p ? 't' : 'l', i, p ? 't' : 'l', i, p ? 't' : 'l', i) != 0)
                goto out;
    rc = 0;
out:
    if (rc != 0) {
        gg_buf_free(&b);
        return NULL;
    }
    return gg_buf_steal(&b, NULL);
}

char *store_sql_stats_query(char ph, const char *group_by)
{
    const char *sel, *grp;
    struct gg_buf b;
    int rc = -1;

    if (!group_by)
        return NULL;
    if (strcmp(group_by, "model") == 0) {
        sel = "model, 0";
        grp = "model";
    } else if (strcmp(group_by, "account") == 0) {
        sel = "NULL, account_id";
        grp = "account_id";
    } else if (strcmp(group_by, "model,account") == 0) {
        sel = "model, account_id";
        grp = "model, account_id";
    } else {
        return NULL;
    }
    gg_buf_init(&b, 1 << 16);
    if (gg_buf_printf(&b, "SELECT %s", sel) != 0)
        goto out;
    for (size_t i = 0; i < NSTATCOLS; i++)
        if (gg_buf_printf(&b, ", SUM(%s)", stat_cols[i]) != 0)
            goto out;
    if (add_hist_cols(&b, ", SUM(", ")") != 0)
        goto out;
    if (gg_buf_printf(&b, " FROM stats_hourly WHERE hour >= %c1 GROUP BY %s ORDER BY %s",
                      ph, grp, grp) != 0)
        goto out;
    rc = 0;
out:
    if (rc != 0) {
        gg_buf_free(&b);
        return NULL;
    }
    return gg_buf_steal(&b, NULL);
}

/* ---- open / close ------------------------------------------------------ */

struct store *store_open(const char *url, const char *data_dir, const char *secret_key,
                         const char *old_keys, char *err, size_t errlen)
{
    struct store *s = calloc(1, sizeof(*s));
    char masked[256];

    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!url || !*url || strncmp(url, "sqlite://", 9) == 0) {
        s->ops = &store_sqlite_ops;
    } else if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
        s->ops = &store_pg_ops;
    } else {
        store_mask_url(url, masked, sizeof(masked));
        snprintf(err, errlen, "unsupported database url \"%s\" (want sqlite:///path, "
                 "postgres:// or postgresql://)", masked);
        goto fail;
    }
    s->box = secretbox_new(secret_key, old_keys, err, errlen);
    if (!s->box)
        goto fail;
    s->be = s->ops->open(url, data_dir, err, errlen);
    if (!s->be)
        goto fail;
    return s;
fail:
    secretbox_free(s->box);
    free(s);
    return NULL;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    s->ops->close(s->be);
    secretbox_free(s->box);
    free(s);
}

const char *store_backend_name(const struct store *s)
{
    return s->ops->name;
}

int store_ping(struct store *s)
{
    return s->ops->ping(s->be);
}

int store_schema_version(struct store *s)
{
    return s->ops->schema_version(s->be);
}

/* ---- sessions ---------------------------------------------------------- */

void store_session_clear(struct store_session *ss)
{
    if (!ss)
        return;
    free(ss->conv_key);
    free(ss->session_name);
    free(ss->model);
    memset(ss, 0, sizeof(*ss));
}

int store_session_put(struct store *s, const struct store_session *ss)
{
    struct store_rec r;
    int res = STORE_OK, rc;

    if (!ss->conv_key || !ss->session_name) {
        store_set_error("session needs conv_key and session_name");
        return STORE_ERR;
    }
    memset(&r, 0, sizeof(r));
    r.kind = STORE_REC_SESSION;
    r.u.session = *ss;
    rc = store_apply(s, &r, 1, &res);
    return rc != STORE_OK ? rc : res;
}

int store_session_get(struct store *s, const char *conv_key, struct store_session *out)
{
    memset(out, 0, sizeof(*out));
    return s->ops->session_get(s->be, conv_key, out);
}

int store_session_delete(struct store *s, const char *conv_key)
{
    struct store_rec r;
    int res = STORE_OK, rc;

    memset(&r, 0, sizeof(r));
    r.kind = STORE_REC_SESSION_DEL;
    r.u.session.conv_key = (char *)conv_key;
    rc = store_apply(s, &r, 1, &res);
    return rc != STORE_OK ? rc : res;
}

int store_session_purge(struct store *s, int64_t older_than)
{
    return s->ops->session_purge(s->be, older_than);
}

/* ---- request log and statistics ---------------------------------------- */

void store_rec_clear(struct store_rec *r)
{
    switch (r->kind) {
    case STORE_REC_TOUCH:
        break;
    case STORE_REC_STATE:
        free(r->u.state.status);
        free(r->u.state.reason);
        break;
    case STORE_REC_REQLOG:
        free(r->u.reqlog.request_id);
        free(r->u.reqlog.model);
        free(r->u.reqlog.error_kind);
        free(r->u.reqlog.dialect);
        break;
    case STORE_REC_SESSION:
    case STORE_REC_SESSION_DEL:
        store_session_clear(&r->u.session);
        break;
    case STORE_REC_KEY_USAGE:
        free(r->u.key_usage.day);
        free(r->u.key_usage.model);
        break;
    }
    memset(r, 0, sizeof(*r));
}

/* Classify a finished request into one of the error counters (index into
 * err_rate_limit..err_client), or -1 for success. */
static int error_class(const struct store_reqlog *r)
{
    const char *k = r->error_kind;

    if (k && *k) {
        if (strcmp(k, "rate_limit") == 0)
            return 0;
        if (strcmp(k, "auth") == 0)
            return 1;
        if (strcmp(k, "client_abort") == 0 || strcmp(k, "client") == 0)
            return 3;
        if (strcmp(k, "upstream") == 0 || strcmp(k, "truncated") == 0 ||
            strcmp(k, "timeout") == 0)
            return 2;
    } else if (r->status < 400) {
        return -1;
    }
    if (r->status == 429)
        return 0;
    if (r->status == 401 || r->status == 403)
        return 1;
    if (r->status >= 500 || r->status < 400)
        return 2;
    return 3;
}

static void delta_add(struct store_stat_delta *d, const struct store_reqlog *r)
{
    int cls = error_class(r);

    d->requests++;
    if (cls >= 0) {
        d->errors++;
        if (cls == 0)
            d->err_rate_limit++;
        else if (cls == 1)
            d->err_auth++;
        else if (cls == 2)
            d->err_upstream++;
        else
            d->err_client++;
    }
    d->prompt_tokens += r->prompt_tokens > 0 ? r->prompt_tokens : 0;
    d->completion_tokens += r->completion_tokens > 0 ? r->completion_tokens : 0;
    d->lat_hist[hist_bucket(r->latency_ms)]++;
    if (r->ttft_ms >= 0)
        d->ttft_hist[hist_bucket(r->ttft_ms)]++;
}

int store_apply(struct store *s, const struct store_rec *recs, size_t n, int *results)
{
    struct store_stat_delta *d = NULL;
    size_t nd = 0;
    int rc = STORE_ERR;

    for (size_t i = 0; i < n; i++)
        if (recs[i].kind == STORE_REC_REQLOG && !recs[i].u.reqlog.request_id) {
            store_set_error("request log row without request_id");
            return STORE_ERR;
        }
    if (n > 0) {
        d = calloc(n, sizeof(*d));
        if (!d) {
            store_set_error("out of memory");
            goto out;
        }
    }
    /* Group by (hour, model, account); batches are small, quadratic is fine
     * up to the 500-record batches storeq makes. */
    for (size_t i = 0; i < n; i++) {
        const struct store_reqlog *r;
        const char *model;
        int64_t hour;
        size_t j;

        if (recs[i].kind != STORE_REC_REQLOG)
            continue;
        r = &recs[i].u.reqlog;
        model = r->model ? r->model : "";
        hour = r->ts / HOUR_MS * HOUR_MS;
        for (j = 0; j < nd; j++)
            if (d[j].hour == hour && d[j].account_id == r->account_id &&
                strcmp(d[j].model, model) == 0)
                break;
        if (j == nd) {
            d[nd].hour = hour;
            d[nd].model = model;
            d[nd].account_id = r->account_id;
            nd++;
        }
        delta_add(&d[j], r);
    }
    rc = s->ops->apply(s->be, recs, n, d, nd, results);
out:
    free(d);
    return rc;
}

int store_reqlog_insert_batch(struct store *s, const struct store_reqlog *r, size_t n)
{
    struct store_rec *recs;
    int rc;

    if (n == 0)
        return STORE_OK;
    recs = calloc(n, sizeof(*recs));
    if (!recs) {
        store_set_error("out of memory");
        return STORE_ERR;
    }
    for (size_t i = 0; i < n; i++) {
        recs[i].kind = STORE_REC_REQLOG;
        recs[i].u.reqlog = r[i];
    }
    rc = store_apply(s, recs, n, NULL);
    free(recs);
    return rc;
}

int store_reqlog_query(struct store *s, const struct store_reqlog_filter *f,
                       struct store_reqlog **out, size_t *n)
{
    struct store_reqlog_filter def = { 0 };

    *out = NULL;
    *n = 0;
    return s->ops->reqlog_query(s->be, f ? f : &def, out, n);
}

int store_reqlog_purge(struct store *s, int64_t before, size_t batch, int64_t *deleted)
{
    int64_t dummy = 0;
    int rc;

    if (!deleted)
        deleted = &dummy;
    *deleted = 0;
    rc = s->ops->reqlog_purge(s->be, before, batch ? batch : 5000, deleted);
    if (rc != STORE_OK)
        return rc;
    /* the hourly table is never purged with the log, only after 400 days */
    return s->ops->stats_prune(s->be, (gg_now_ms() - STATS_KEEP_MS) / HOUR_MS * HOUR_MS);
}

void store_reqlog_list_free(struct store_reqlog *r, size_t n)
{
    if (!r)
        return;
    for (size_t i = 0; i < n; i++) {
        free(r[i].request_id);
        free(r[i].model);
        free(r[i].error_kind);
        free(r[i].dialect);
    }
    free(r);
}

int store_stats_query(struct store *s, int64_t since, const char *group_by,
                      struct store_stat_row **out, size_t *n)
{
    char *sql;
    int rc;

    *out = NULL;
    *n = 0;
    sql = store_sql_stats_query(s->ops == &store_pg_ops ? '$' : '?', group_by);
    if (!sql) {
        store_set_error("bad stats grouping \"%s\" (want model, account or model,account)",
                        group_by ? group_by : "(null)");
        return STORE_ERR;
    }
    rc = s->ops->stats_query(s->be, sql, since / HOUR_MS * HOUR_MS, out, n);
    free(sql);
    return rc;
}

void store_stats_free(struct store_stat_row *r, size_t n)
{
    if (!r)
        return;
    for (size_t i = 0; i < n; i++)
        free(r[i].model);
    free(r);
}

/* ---- settings ---------------------------------------------------------- */

int store_kv_get(struct store *s, const char *key, char **value)
{
    *value = NULL;
    return s->ops->kv_get(s->be, key, value);
}

int store_kv_put(struct store *s, const char *key, const char *value)
{
    if (!key || !value) {
        store_set_error("settings need a key and a value");
        return STORE_ERR;
    }
    return s->ops->kv_put(s->be, key, value, gg_now_ms());
}

void store_rows_free(struct store_rows *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->cell && i < r->nrows * r->ncols; i++)
        free(r->cell[i]);
    free(r->cell);
    memset(r, 0, sizeof(*r));
}
