/* store_sqlite_log.c -- the SQLite backend's write batch and request-log
 * side: apply() runs touch/state/session/request-log records and the
 * stats_hourly upserts in one IMMEDIATE transaction; request-log query and
 * batched purge; stats query and prune.  Shared helpers and contract:
 * store_sqlite_internal.h.
 */
#include "store_sqlite_internal.h"

#include <stdlib.h>
#include <string.h>

#include "gg_time.h"

static int apply_one(struct sq *q, const struct store_rec *r)
{
    const struct store_reqlog *l;
    sqlite3_stmt *st = NULL;
    int rc = STORE_ERR;
    bool count_rows = true;

    switch (r->kind) {
    case STORE_REC_TOUCH:
        st = sq_stmt(q, Q_TOUCH);
        if (!st)
            return STORE_ERR;
        sqlite3_bind_int64(st, 1, r->u.touch.account_id);
        sqlite3_bind_int64(st, 2, r->u.touch.last_used_at);
        sqlite3_bind_int64(st, 3, r->u.touch.req_delta);
        sqlite3_bind_int64(st, 4, r->u.touch.err_delta);
        break;
    case STORE_REC_STATE:
        st = sq_stmt(q, Q_STATE);
        if (!st)
            return STORE_ERR;
        sqlite3_bind_int64(st, 1, r->u.state.account_id);
        sq_bind_str(st, 2, r->u.state.status ? r->u.state.status : "active");
        sq_bind_str(st, 3, r->u.state.reason);
        sq_bind_ms(st, 4, r->u.state.cooldown_until);
        sqlite3_bind_int64(st, 5, r->u.state.fail_count);
        sqlite3_bind_int64(st, 6, r->u.state.updated_at ? r->u.state.updated_at : gg_now_ms());
        break;
    case STORE_REC_SESSION:
        st = sq_stmt(q, Q_SESS_PUT);
        if (!st)
            return STORE_ERR;
        sq_bind_str(st, 1, r->u.session.conv_key);
        sqlite3_bind_int64(st, 2, r->u.session.account_id);
        sq_bind_str(st, 3, r->u.session.session_name);
        sq_bind_str(st, 4, r->u.session.model);
        sqlite3_bind_int64(st, 5, r->u.session.turns);
        sqlite3_bind_int64(st, 6, r->u.session.updated_at ? r->u.session.updated_at
                                                          : gg_now_ms());
        break;
    case STORE_REC_SESSION_DEL:
        st = sq_stmt(q, Q_SESS_DEL);
        if (!st)
            return STORE_ERR;
        sq_bind_str(st, 1, r->u.session.conv_key);
        break;
    case STORE_REC_REQLOG:
        l = &r->u.reqlog;
        st = sq_stmt(q, Q_LOG_INSERT);
        if (!st)
            return STORE_ERR;
        sq_bind_str(st, 1, l->request_id);
        sqlite3_bind_int64(st, 2, l->ts);
        sq_bind_str(st, 3, l->model);
        sqlite3_bind_int64(st, 4, l->account_id);
        sqlite3_bind_int(st, 5, l->status);
        sq_bind_str(st, 6, l->error_kind);
        sqlite3_bind_int64(st, 7, l->latency_ms);
        sqlite3_bind_int64(st, 8, l->ttft_ms);
        sqlite3_bind_int64(st, 9, l->bytes_out);
        sqlite3_bind_int64(st, 10, l->prompt_tokens);
        sqlite3_bind_int64(st, 11, l->completion_tokens);
        sqlite3_bind_int(st, 12, l->stream ? 1 : 0);
        sq_bind_str(st, 13, l->dialect && *l->dialect ? l->dialect : "openai");
        sqlite3_bind_int64(st, 14, l->tool_calls > 0 ? l->tool_calls : 0);
        count_rows = false;
        break;
    case STORE_REC_KEY_USAGE:
        st = sq_stmt(q, Q_KEY_USAGE);
        if (!st)
            return STORE_ERR;
        sqlite3_bind_int64(st, 1, r->u.key_usage.key_id);
        sq_bind_str(st, 2, r->u.key_usage.day);
        sq_bind_str(st, 3, r->u.key_usage.model);
        sqlite3_bind_int64(st, 4, r->u.key_usage.requests);
        sqlite3_bind_int64(st, 5, r->u.key_usage.errors);
        sqlite3_bind_int64(st, 6, r->u.key_usage.tokens_in);
        sqlite3_bind_int64(st, 7, r->u.key_usage.tokens_out);
        count_rows = false;
        break;
    }
    rc = sq_step_done(q, st, "apply");
    if (rc == STORE_OK && count_rows && sqlite3_changes(q->db) == 0)
        rc = STORE_NOTFOUND;
    sq_done(st);
    return rc;
}

int sq_apply(void *be, const struct store_rec *recs, size_t n,
             const struct store_stat_delta *d, size_t nd, int *results)
{
    struct sq *q = be;
    sqlite3_stmt *st;
    int rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    if (sq_exec(q, "BEGIN IMMEDIATE") != STORE_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        int r = apply_one(q, &recs[i]);

        if (r == STORE_ERR || r == STORE_CONFLICT)
            goto fail;
        if (results)
            results[i] = r;
    }
    for (size_t i = 0; i < nd; i++) {
        int k = 1;

        st = sq_stmt(q, Q_STATS_UPSERT);
        if (!st)
            goto fail;
        sqlite3_bind_int64(st, k++, d[i].hour);
        sq_bind_str(st, k++, d[i].model);
        sqlite3_bind_int64(st, k++, d[i].account_id);
        sqlite3_bind_int64(st, k++, d[i].requests);
        sqlite3_bind_int64(st, k++, d[i].errors);
        sqlite3_bind_int64(st, k++, d[i].err_rate_limit);
        sqlite3_bind_int64(st, k++, d[i].err_auth);
        sqlite3_bind_int64(st, k++, d[i].err_upstream);
        sqlite3_bind_int64(st, k++, d[i].err_client);
        sqlite3_bind_int64(st, k++, d[i].prompt_tokens);
        sqlite3_bind_int64(st, k++, d[i].completion_tokens);
        for (int j = 0; j < STORE_HIST_BUCKETS; j++)
            sqlite3_bind_int64(st, k++, d[i].lat_hist[j]);
        for (int j = 0; j < STORE_HIST_BUCKETS; j++)
            sqlite3_bind_int64(st, k++, d[i].ttft_hist[j]);
        k = sq_step_done(q, st, "stats upsert");
        sq_done(st);
        if (k != STORE_OK)
            goto fail;
    }
    rc = sq_exec(q, "COMMIT");
    if (rc == STORE_OK)
        goto out;
fail:
    rc = STORE_ERR;
    sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
out:
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int sq_stats_prune(void *be, int64_t before_hour)
{
    return sq_delete_before(be, Q_STATS_PRUNE, before_hour, 0, NULL);
}

int sq_reqlog_purge(void *be, int64_t before, size_t batch, int64_t *deleted)
{
    int64_t ch = 0;
    int rc;

    /* each batch is its own statement: the mutex and the write lock are
     * released between batches so other writers get through */
    do {
        rc = sq_delete_before(be, Q_LOG_PURGE, before, (int64_t)batch, &ch);
        if (rc != STORE_OK)
            return rc;
        *deleted += ch;
    } while (ch == (int64_t)batch);
    return STORE_OK;
}

int sq_reqlog_query(void *be, const struct store_reqlog_filter *f,
                    struct store_reqlog **out, size_t *n)
{
    struct sq *q = be;
    struct store_reqlog *list = NULL;
    size_t cnt = 0, limit = f->limit ? f->limit : 100;
    sqlite3_stmt *st;
    int r, rc = STORE_ERR, oom = 0;

    pthread_mutex_lock(&q->mu);
    st = sq_stmt(q, Q_LOG_QUERY);
    if (!st)
        goto out;
    list = calloc(limit < 1024 ? limit : 1024, sizeof(*list));
    if (!list) {
        store_set_error("out of memory");
        goto out;
    }
    sqlite3_bind_int64(st, 1, f->since);
    sqlite3_bind_int64(st, 2, f->account_id);
    sq_bind_str(st, 3, f->model);
    sqlite3_bind_int(st, 4, f->status_max ? f->status_min : 0);
    sqlite3_bind_int(st, 5, f->status_max ? f->status_max : 999);
    sqlite3_bind_int64(st, 6, (int64_t)limit);
    sq_bind_str(st, 7, f->dialect);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_reqlog *l;

        if (cnt >= 1024 && (cnt & (cnt - 1)) == 0) {
            struct store_reqlog *tmp = realloc(list, 2 * cnt * sizeof(*list));

            if (!tmp) {
                store_set_error("out of memory");
                goto out;
            }
            list = tmp;
        }
        l = &list[cnt++];
        memset(l, 0, sizeof(*l));
        l->request_id = sq_col_str(st, 0, &oom);
        l->ts = sqlite3_column_int64(st, 1);
        l->model = sq_col_str(st, 2, &oom);
        l->account_id = sqlite3_column_int64(st, 3);
        l->status = sqlite3_column_int(st, 4);
        l->error_kind = sq_col_str(st, 5, &oom);
        l->latency_ms = sqlite3_column_int64(st, 6);
        l->ttft_ms = sqlite3_column_int64(st, 7);
        l->bytes_out = sqlite3_column_int64(st, 8);
        l->prompt_tokens = sqlite3_column_int64(st, 9);
        l->completion_tokens = sqlite3_column_int64(st, 10);
        l->stream = sqlite3_column_int(st, 11) != 0;
        l->dialect = sq_col_str(st, 12, &oom);
        l->tool_calls = sqlite3_column_int64(st, 13);
        if (oom) {
            store_set_error("out of memory");
            goto out;
        }
    }
    if (r != SQLITE_DONE) {
        sq_fail(q, "query request log");
        goto out;
    }
    rc = STORE_OK;
out:
    sq_done(st);
    pthread_mutex_unlock(&q->mu);
    if (rc != STORE_OK) {
        store_reqlog_list_free(list, cnt);
        list = NULL;
        cnt = 0;
    }
    *out = list;
    *n = cnt;
    return rc;
}

int sq_stats_query(void *be, const char *sql, int64_t since_hour,
                   struct store_stat_row **out, size_t *n)
{
    struct sq *q = be;
    struct store_stat_row *list = NULL, *tmp;
    size_t cnt = 0, cap = 0;
    sqlite3_stmt *st = NULL;
    int r, rc = STORE_ERR, oom = 0;

    pthread_mutex_lock(&q->mu);
    if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK) {
        sq_fail(q, "prepare stats query");
        goto out;
    }
    sqlite3_bind_int64(st, 1, since_hour);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_stat_row *row;
        int k = 2;

        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            tmp = realloc(list, cap * sizeof(*list));
            if (!tmp) {
                store_set_error("out of memory");
                goto out;
            }
            list = tmp;
        }
        row = &list[cnt++];
        memset(row, 0, sizeof(*row));
        row->model = sq_col_str(st, 0, &oom);
        row->account_id = sqlite3_column_int64(st, 1);
        row->requests = sqlite3_column_int64(st, k++);
        row->errors = sqlite3_column_int64(st, k++);
        row->err_rate_limit = sqlite3_column_int64(st, k++);
        row->err_auth = sqlite3_column_int64(st, k++);
        row->err_upstream = sqlite3_column_int64(st, k++);
        row->err_client = sqlite3_column_int64(st, k++);
        row->prompt_tokens = sqlite3_column_int64(st, k++);
        row->completion_tokens = sqlite3_column_int64(st, k++);
        for (int j = 0; j < STORE_HIST_BUCKETS; j++)
            row->lat_hist[j] = sqlite3_column_int64(st, k++);
        for (int j = 0; j < STORE_HIST_BUCKETS; j++)
            row->ttft_hist[j] = sqlite3_column_int64(st, k++);
        if (oom) {
            store_set_error("out of memory");
            goto out;
        }
    }
    if (r != SQLITE_DONE) {
        sq_fail(q, "stats query");
        goto out;
    }
    rc = STORE_OK;
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&q->mu);
    if (rc != STORE_OK) {
        store_stats_free(list, cnt);
        list = NULL;
        cnt = 0;
    }
    *out = list;
    *n = cnt;
    return rc;
}
