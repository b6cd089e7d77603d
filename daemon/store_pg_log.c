/* store_pg_log.c -- the PostgreSQL backend's write batch and request-log
 * side: apply() runs touch/state/session/request-log records and the
 * stats_hourly upserts in one transaction; request-log query and batched
 * purge; stats query and prune.  Shared helpers and contract:
 * store_pg_internal.h.
 */
#include "store_pg_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gg_time.h"

static const char sql_touch[] = "UPDATE gemini_accounts SET "
    "last_used_at = GREATEST(last_used_at, gg_ms2ts($2)), "
    "requests_total = requests_total + $3, errors_total = errors_total + $4 WHERE id = $1";
static const char sql_state[] = "UPDATE gemini_accounts SET status = $2, reason = $3, "
    "cooldown_until = gg_ms2ts($4), fail_count = $5, updated_at = gg_ms2ts($6) WHERE id = $1";
static const char sql_sess_put[] = "INSERT INTO conv_sessions (conv_key, account_id, "
    "session_name, model, turns, updated_at) "
    "SELECT $1::text, $2::bigint, $3::text, $4::text, $5::bigint, $6::bigint "
    "WHERE EXISTS (SELECT 1 FROM gemini_accounts WHERE id = $2::bigint) "
    "ON CONFLICT (conv_key) DO UPDATE SET account_id = EXCLUDED.account_id, "
    "session_name = EXCLUDED.session_name, model = EXCLUDED.model, turns = EXCLUDED.turns, "
    "updated_at = EXCLUDED.updated_at";
static const char sql_sess_del[] = "DELETE FROM conv_sessions WHERE conv_key = $1";
static const char sql_log_insert[] = "INSERT INTO request_logs (request_id, ts, model, "
    "account_id, status, error_kind, latency_ms, ttft_ms, bytes_out, prompt_tokens, "
    "completion_tokens, stream, dialect, tool_calls) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
static const char sql_log_query[] = "SELECT request_id, ts, model, account_id, status, "
    "error_kind, latency_ms, ttft_ms, bytes_out, prompt_tokens, completion_tokens, stream, "
    "dialect, tool_calls "
    "FROM request_logs WHERE ts >= $1 AND ($2::bigint = 0 OR account_id = $2) "
    "AND ($3::text IS NULL OR model = $3) AND status BETWEEN $4 AND $5 "
    "AND ($7::text IS NULL OR dialect = $7) "
    "ORDER BY ts DESC, id DESC LIMIT $6";
static const char sql_log_purge[] = "DELETE FROM request_logs WHERE id IN "
    "(SELECT id FROM request_logs WHERE ts < $1 ORDER BY ts LIMIT $2)";
static const char sql_stats_prune[] = "DELETE FROM stats_hourly WHERE hour < $1";
static const char sql_key_usage[] = "INSERT INTO key_usage (key_id, day, model, requests, errors, "
    "tokens_in, tokens_out) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key_id, day, model) "
    "DO UPDATE SET requests = key_usage.requests + excluded.requests, errors = key_usage.errors + "
    "excluded.errors, tokens_in = key_usage.tokens_in + excluded.tokens_in, tokens_out = "
    "key_usage.tokens_out + excluded.tokens_out";

static int apply_one(PGconn *c, const struct store_rec *r)
{
    struct nbuf nb = { .used = 0 };
    const struct store_reqlog *l;
    const char *v[14];
    const char *sql = NULL;
    int64_t changed = 0;
    int n = 0, rc;

    switch (r->kind) {
    case STORE_REC_TOUCH:
        sql = sql_touch;
        v[n++] = spg_num(&nb, r->u.touch.account_id);
        v[n++] = spg_num(&nb, r->u.touch.last_used_at);
        v[n++] = spg_num(&nb, r->u.touch.req_delta);
        v[n++] = spg_num(&nb, r->u.touch.err_delta);
        break;
    case STORE_REC_STATE:
        sql = sql_state;
        v[n++] = spg_num(&nb, r->u.state.account_id);
        v[n++] = r->u.state.status ? r->u.state.status : "active";
        v[n++] = r->u.state.reason;
        v[n++] = spg_num(&nb, r->u.state.cooldown_until);
        v[n++] = spg_num(&nb, r->u.state.fail_count);
        v[n++] = spg_num(&nb, r->u.state.updated_at ? r->u.state.updated_at : gg_now_ms());
        break;
    case STORE_REC_SESSION:
        sql = sql_sess_put;
        v[n++] = r->u.session.conv_key;
        v[n++] = spg_num(&nb, r->u.session.account_id);
        v[n++] = r->u.session.session_name;
        v[n++] = r->u.session.model;
        v[n++] = spg_num(&nb, r->u.session.turns);
        v[n++] = spg_num(&nb, r->u.session.updated_at ? r->u.session.updated_at : gg_now_ms());
        break;
    case STORE_REC_SESSION_DEL:
        sql = sql_sess_del;
        v[n++] = r->u.session.conv_key;
        break;
    case STORE_REC_REQLOG:
        l = &r->u.reqlog;
        sql = sql_log_insert;
        v[n++] = l->request_id;
        v[n++] = spg_num(&nb, l->ts);
        v[n++] = l->model;
        v[n++] = spg_num(&nb, l->account_id);
        v[n++] = spg_num(&nb, l->status);
        v[n++] = l->error_kind;
        v[n++] = spg_num(&nb, l->latency_ms);
        v[n++] = spg_num(&nb, l->ttft_ms);
        v[n++] = spg_num(&nb, l->bytes_out);
        v[n++] = spg_num(&nb, l->prompt_tokens);
        v[n++] = spg_num(&nb, l->completion_tokens);
        v[n++] = l->stream ? "t" : "f";
        v[n++] = l->dialect && *l->dialect ? l->dialect : "openai";
        v[n++] = spg_num(&nb, l->tool_calls > 0 ? l->tool_calls : 0);
        break;
    case STORE_REC_KEY_USAGE:
        sql = sql_key_usage;
        v[n++] = spg_num(&nb, r->u.key_usage.key_id);
        v[n++] = r->u.key_usage.day;
        v[n++] = r->u.key_usage.model;
        v[n++] = spg_num(&nb, r->u.key_usage.requests);
        v[n++] = spg_num(&nb, r->u.key_usage.errors);
        v[n++] = spg_num(&nb, r->u.key_usage.tokens_in);
        v[n++] = spg_num(&nb, r->u.key_usage.tokens_out);
        break;
    }
    rc = spg_cmd(c, sql, n, v, "apply", &changed);
    if (rc == STORE_OK && changed == 0)
        rc = STORE_NOTFOUND;
    return rc;
}

int pg_apply(void *be, const struct store_rec *recs, size_t n,
             const struct store_stat_delta *d, size_t nd, int *results)
{
    struct pg *p = be;
    PGconn *c;
    int i = spg_acquire(p), rc = STORE_ERR;

    if (i < 0)
        return STORE_ERR;
    c = CONN(p, i);
    if (spg_cmd(c, "BEGIN", -1, NULL, "begin", NULL) != STORE_OK)
        goto out;
    for (size_t k = 0; k < n; k++) {
        int r = apply_one(c, &recs[k]);

        if (r == STORE_ERR || r == STORE_CONFLICT)
            goto fail;
        if (results)
            results[k] = r;
    }
    for (size_t k = 0; k < nd; k++) {
        char nbv[STORE_STAT_NCOLS][24];
        const char *v[STORE_STAT_NCOLS];
        int64_t iv[STORE_STAT_NCOLS];
        int m = 0;

        iv[m++] = d[k].hour;
        iv[m++] = 0;                            /* model: text, below */
        iv[m++] = d[k].account_id;
        iv[m++] = d[k].requests;
        iv[m++] = d[k].errors;
        iv[m++] = d[k].err_rate_limit;
        iv[m++] = d[k].err_auth;
        iv[m++] = d[k].err_upstream;
        iv[m++] = d[k].err_client;
        iv[m++] = d[k].prompt_tokens;
        iv[m++] = d[k].completion_tokens;
        for (int j = 0; j < STORE_HIST_BUCKETS; j++)
            iv[m++] = d[k].lat_hist[j];
        for (int j = 0; j < STORE_HIST_BUCKETS; j++)
            iv[m++] = d[k].ttft_hist[j];
        for (int j = 0; j < STORE_STAT_NCOLS; j++) {
            snprintf(nbv[j], sizeof(nbv[j]), "%" PRId64, iv[j]);
            v[j] = nbv[j];
        }
        v[1] = d[k].model;
        if (spg_cmd(c, p->stats_sql, STORE_STAT_NCOLS, v, "stats upsert", NULL) != STORE_OK)
            goto fail;
    }
    if (spg_cmd(c, "COMMIT", -1, NULL, "commit", NULL) == STORE_OK) {
        rc = STORE_OK;
        goto out;
    }
fail:
    rc = STORE_ERR;
    spg_rollback(c);
out:
    spg_release(p, i);
    return rc;
}

int pg_stats_prune(void *be, int64_t before_hour)
{
    return spg_simple(be, sql_stats_prune, 1, before_hour, 0, "prune stats", NULL);
}

int pg_reqlog_purge(void *be, int64_t before, size_t batch, int64_t *deleted)
{
    int64_t ch = 0;
    int rc;

    do {
        rc = spg_simple(be, sql_log_purge, 2, before, (int64_t)batch, "purge request log", &ch);
        if (rc != STORE_OK)
            return rc;
        *deleted += ch;
    } while (ch == (int64_t)batch);
    return STORE_OK;
}

int pg_reqlog_query(void *be, const struct store_reqlog_filter *f,
                    struct store_reqlog **out, size_t *n)
{
    struct pg *p = be;
    struct nbuf nb = { .used = 0 };
    struct store_reqlog *list = NULL;
    const char *v[7];
    PGresult *r;
    int i, rc = STORE_ERR, rows, oom = 0;

    v[0] = spg_num(&nb, f->since);
    v[1] = spg_num(&nb, f->account_id);
    v[2] = f->model;
    v[3] = spg_num(&nb, f->status_max ? f->status_min : 0);
    v[4] = spg_num(&nb, f->status_max ? f->status_max : 999);
    v[5] = spg_num(&nb, (int64_t)(f->limit ? f->limit : 100));
    v[6] = f->dialect;
    i = spg_acquire(p);
    if (i < 0)
        return STORE_ERR;
    r = spg_run(CONN(p, i), sql_log_query, 7, v, PGRES_TUPLES_OK, "query request log", &rc);
    if (!r)
        goto out;
    rows = PQntuples(r);
    list = calloc(rows ? (size_t)rows : 1, sizeof(*list));
    if (!list) {
        store_set_error("out of memory");
        rc = STORE_ERR;
        goto out;
    }
    for (int k = 0; k < rows; k++) {
        struct store_reqlog *l = &list[k];

        l->request_id = spg_gs(r, k, 0, &oom);
        l->ts = spg_gi(r, k, 1);
        l->model = spg_gs(r, k, 2, &oom);
        l->account_id = spg_gi(r, k, 3);
        l->status = (int)spg_gi(r, k, 4);
        l->error_kind = spg_gs(r, k, 5, &oom);
        l->latency_ms = spg_gi(r, k, 6);
        l->ttft_ms = spg_gi(r, k, 7);
        l->bytes_out = spg_gi(r, k, 8);
        l->prompt_tokens = spg_gi(r, k, 9);
        l->completion_tokens = spg_gi(r, k, 10);
        l->stream = PQgetvalue(r, k, 11)[0] == 't';
        l->dialect = spg_gs(r, k, 12, &oom);
        l->tool_calls = spg_gi(r, k, 13);
    }
    if (oom) {
        store_reqlog_list_free(list, (size_t)rows);
        store_set_error("out of memory");
        rc = STORE_ERR;
        goto out;
    }
    *out = list;
    *n = (size_t)rows;
    rc = STORE_OK;
out:
    PQclear(r);
    spg_release(p, i);
    return rc;
}

int pg_stats_query(void *be, const char *sql, int64_t since_hour,
                   struct store_stat_row **out, size_t *n)
{
    struct pg *p = be;
    struct nbuf nb = { .used = 0 };
    struct store_stat_row *list = NULL;
    const char *v[1];
    PGresult *r;
    int i = spg_acquire(p), rc = STORE_ERR, rows, oom = 0;

    if (i < 0)
        return STORE_ERR;
    v[0] = spg_num(&nb, since_hour);
    r = spg_run(CONN(p, i), sql, 1, v, PGRES_TUPLES_OK, "stats query", &rc);
    if (!r)
        goto out;
    rows = PQntuples(r);
    list = calloc(rows ? (size_t)rows : 1, sizeof(*list));
    if (!list) {
        store_set_error("out of memory");
        rc = STORE_ERR;
        goto out;
    }
    for (int k = 0; k < rows; k++) {
        struct store_stat_row *row = &list[k];
        int col = 2;

        row->model = spg_gs(r, k, 0, &oom);
        row->account_id = spg_gi(r, k, 1);
        row->requests = spg_gi(r, k, col++);
        row->errors = spg_gi(r, k, col++);
        row->err_rate_limit = spg_gi(r, k, col++);
        row->err_auth = spg_gi(r, k, col++);
        row->err_upstream = spg_gi(r, k, col++);
        row->err_client = spg_gi(r, k, col++);
        row->prompt_tokens = spg_gi(r, k, col++);
        row->completion_tokens = spg_gi(r, k, col++);
        for (int j = 0; j < STORE_HIST_BUCKETS; j++)
            row->lat_hist[j] = spg_gi(r, k, col++);
        for (int j = 0; j < STORE_HIST_BUCKETS; j++)
            row->ttft_hist[j] = spg_gi(r, k, col++);
    }
    if (oom) {
        store_stats_free(list, (size_t)rows);
        store_set_error("out of memory");
        rc = STORE_ERR;
        goto out;
    }
    *out = list;
    *n = (size_t)rows;
    rc = STORE_OK;
out:
    PQclear(r);
    spg_release(p, i);
    return rc;
}
