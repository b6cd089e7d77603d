/* store_sqlite_kv.c -- the SQLite backend's keyed reads: conv_sessions
 * (get by conv_key, purge by age; writes go through apply() in
 * store_sqlite_log.c) and the settings table (kv get/put).  Shared helpers
 * and contract: store_sqlite_internal.h.
 */
#include "store_sqlite_internal.h"

int sq_session_get(void *be, const char *conv_key, struct store_session *out)
{
    struct sq *q = be;
    sqlite3_stmt *st;
    int r, rc = STORE_ERR, oom = 0;

    pthread_mutex_lock(&q->mu);
    st = sq_stmt(q, Q_SESS_GET);
    if (!st)
        goto out;
    sq_bind_str(st, 1, conv_key);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        out->conv_key = sq_col_str(st, 0, &oom);
        out->account_id = sqlite3_column_int64(st, 1);
        out->session_name = sq_col_str(st, 2, &oom);
        out->model = sq_col_str(st, 3, &oom);
        out->turns = sqlite3_column_int64(st, 4);
        out->updated_at = sqlite3_column_int64(st, 5);
        rc = STORE_OK;
        if (oom) {
            store_session_clear(out);
            store_set_error("out of memory");
            rc = STORE_ERR;
        }
    } else if (r == SQLITE_DONE) {
        store_set_error("session not found");
        rc = STORE_NOTFOUND;
    } else {
        sq_fail(q, "get session");
    }
out:
    sq_done(st);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int sq_session_purge(void *be, int64_t older_than)
{
    return sq_delete_before(be, Q_SESS_PURGE, older_than, 0, NULL);
}

int sq_kv_get(void *be, const char *key, char **value)
{
    struct sq *q = be;
    sqlite3_stmt *st;
    int r, rc = STORE_ERR, oom = 0;

    pthread_mutex_lock(&q->mu);
    st = sq_stmt(q, Q_KV_GET);
    if (!st)
        goto out;
    sq_bind_str(st, 1, key);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        *value = sq_col_str(st, 0, &oom);
        rc = *value ? STORE_OK : STORE_ERR;
        if (oom)
            store_set_error("out of memory");
    } else if (r == SQLITE_DONE) {
        store_set_error("setting not found");
        rc = STORE_NOTFOUND;
    } else {
        sq_fail(q, "get setting");
    }
out:
    sq_done(st);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int sq_kv_put(void *be, const char *key, const char *value, int64_t now)
{
    struct sq *q = be;
    sqlite3_stmt *st;
    int rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    st = sq_stmt(q, Q_KV_PUT);
    if (!st)
        goto out;
    sq_bind_str(st, 1, key);
    sq_bind_str(st, 2, value);
    sqlite3_bind_int64(st, 3, now);
    rc = sq_step_done(q, st, "put setting");
out:
    sq_done(st);
    pthread_mutex_unlock(&q->mu);
    return rc;
}
