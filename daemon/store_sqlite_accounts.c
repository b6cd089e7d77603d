/* store_sqlite_accounts.c -- the SQLite backend's gemini_accounts ops: list,
 * get, insert, update, delete, the one-transaction upsert of an import
 * (match on (csesidx, config_id)) and the compare-and-set of the sealed
 * secret columns.  Rows move exactly as stored (secrets sealed by
 * store_accounts.c).  Shared helpers and contract: store_sqlite_internal.h.
 */
#include "store_sqlite_internal.h"

#include <stdlib.h>
#include <string.h>

/* Account columns ?1..?18 in the order of ACC_BIND (store_sqlite.c). */
static void bind_account(sqlite3_stmt *st, const struct store_account *a)
{
    sq_bind_str(st, 1, a->name);
    sq_bind_str(st, 2, a->secure_c_ses);
    sq_bind_str(st, 3, a->host_c_oses);
    sq_bind_str(st, 4, a->csesidx);
    sq_bind_str(st, 5, a->config_id);
    sqlite3_bind_int(st, 6, a->is_active ? 1 : 0);
    sq_bind_str(st, 7, a->status);
    sq_bind_str(st, 8, a->reason);
    sq_bind_ms(st, 9, a->cooldown_until);
    sqlite3_bind_int64(st, 10, a->fail_count);
    sq_bind_str(st, 11, a->proxy);
    sq_bind_str(st, 12, a->note);
    sq_bind_ms(st, 13, a->expires_at);
    sq_bind_ms(st, 14, a->last_used_at);
    sq_bind_ms(st, 15, a->created_at);
    sqlite3_bind_int64(st, 16, a->updated_at);
    sqlite3_bind_int64(st, 17, a->requests_total);
    sqlite3_bind_int64(st, 18, a->errors_total);
}

/* STORE_OK, or STORE_ERR (out of memory) with a cleared. */
static int read_account(sqlite3_stmt *st, struct store_account *a)
{
    int oom = 0;

    a->id = sqlite3_column_int64(st, 0);
    a->name = sq_col_str(st, 1, &oom);
    a->secure_c_ses = sq_col_str(st, 2, &oom);
    a->host_c_oses = sq_col_str(st, 3, &oom);
    a->csesidx = sq_col_str(st, 4, &oom);
    a->config_id = sq_col_str(st, 5, &oom);
    a->is_active = sqlite3_column_int(st, 6) != 0;
    a->status = sq_col_str(st, 7, &oom);
    a->reason = sq_col_str(st, 8, &oom);
    a->cooldown_until = sqlite3_column_int64(st, 9);
    a->fail_count = sqlite3_column_int64(st, 10);
    a->proxy = sq_col_str(st, 11, &oom);
    a->note = sq_col_str(st, 12, &oom);
    a->expires_at = sqlite3_column_int64(st, 13);
    a->last_used_at = sqlite3_column_int64(st, 14);
    a->created_at = sqlite3_column_int64(st, 15);
    a->updated_at = sqlite3_column_int64(st, 16);
    a->requests_total = sqlite3_column_int64(st, 17);
    a->errors_total = sqlite3_column_int64(st, 18);
    if (oom) {
        store_account_clear(a);
        store_set_error("out of memory");
        return STORE_ERR;
    }
    return STORE_OK;
}

/* ---- account ops -------------------------------------------------------- */

int sq_account_list(void *be, struct store_account **out, size_t *n)
{
    struct sq *q = be;
    struct store_account *list = NULL, *tmp;
    size_t cnt = 0, cap = 0;
    sqlite3_stmt *st;
    int r, rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    st = sq_stmt(q, Q_ACC_LIST);
    if (!st)
        goto out;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (cnt == cap) {
            cap = cap ? cap * 2 : 64;
            tmp = realloc(list, cap * sizeof(*list));
            if (!tmp) {
                store_set_error("out of memory");
                goto out;
            }
            list = tmp;
        }
        memset(&list[cnt], 0, sizeof(list[cnt]));
        if (read_account(st, &list[cnt++]) != STORE_OK)
            goto out;
    }
    if (r != SQLITE_DONE) {
        sq_fail(q, "list accounts");
        goto out;
    }
    rc = STORE_OK;
out:
    sq_done(st);
    pthread_mutex_unlock(&q->mu);
    if (rc != STORE_OK) {
        store_account_list_free(list, cnt);
        list = NULL;
        cnt = 0;
    }
    *out = list;
    *n = cnt;
    return rc;
}

int sq_account_get(void *be, int64_t id, struct store_account *out)
{
    struct sq *q = be;
    sqlite3_stmt *st;
    int r, rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    st = sq_stmt(q, Q_ACC_GET);
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, id);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        rc = read_account(st, out);
    } else if (r == SQLITE_DONE) {
        store_set_error("account %lld not found", (long long)id);
        rc = STORE_NOTFOUND;
    } else {
        sq_fail(q, "get account");
    }
out:
    sq_done(st);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int sq_account_insert(void *be, struct store_account *a)
{
    struct sq *q = be;
    sqlite3_stmt *st;
    int rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    st = sq_stmt(q, Q_ACC_INSERT);
    if (!st)
        goto out;
    bind_account(st, a);
    rc = sq_step_done(q, st, "insert account");
    if (rc == STORE_OK)
        a->id = sqlite3_last_insert_rowid(q->db);
out:
    sq_done(st);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int sq_account_update(void *be, const struct store_account *a)
{
    struct sq *q = be;
    sqlite3_stmt *st;
    int rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    st = sq_stmt(q, Q_ACC_UPDATE);
    if (!st)
        goto out;
    bind_account(st, a);
    sqlite3_bind_int64(st, 19, a->id);
    rc = sq_step_done(q, st, "update account");
    if (rc == STORE_OK && sqlite3_changes(q->db) == 0) {
        store_set_error("account %lld not found", (long long)a->id);
        rc = STORE_NOTFOUND;
    }
out:
    sq_done(st);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int sq_account_delete(void *be, int64_t id)
{
    struct sq *q = be;
    sqlite3_stmt *st;
    int rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    st = sq_stmt(q, Q_ACC_DELETE);
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, id);
    rc = sq_step_done(q, st, "delete account");
    if (rc == STORE_OK && sqlite3_changes(q->db) == 0) {
        store_set_error("account %lld not found", (long long)id);
        rc = STORE_NOTFOUND;
    }
out:
    sq_done(st);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int upsert_one(struct sq *q, struct store_account *a, bool *created)
{
    sqlite3_stmt *st = sq_stmt(q, Q_ACC_FIND);
    int r, rc = STORE_ERR;

    if (!st)
        return STORE_ERR;
    sq_bind_str(st, 1, a->csesidx);
    sq_bind_str(st, 2, a->config_id);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        a->id = sqlite3_column_int64(st, 0);
        a->created_at = sqlite3_column_int64(st, 1);
    } else if (r != SQLITE_DONE) {
        sq_done(st);
        return sq_fail(q, "find account");
    }
    sq_done(st);
    if (r == SQLITE_ROW) {
        *created = false;
        st = sq_stmt(q, Q_ACC_UPSERT_UPD);
        if (!st)
            return STORE_ERR;
        bind_account(st, a);
        sqlite3_bind_int64(st, 19, a->id);
        rc = sq_step_done(q, st, "update account");
    } else {
        *created = true;
        st = sq_stmt(q, Q_ACC_INSERT);
        if (!st)
            return STORE_ERR;
        bind_account(st, a);
        rc = sq_step_done(q, st, "insert account");
        if (rc == STORE_OK)
            a->id = sqlite3_last_insert_rowid(q->db);
    }
    sq_done(st);
    return rc;
}

int sq_account_upsert_many(void *be, struct store_account *a, size_t n, int *results,
                           bool *created)
{
    struct sq *q = be;
    int rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    if (sq_exec(q, "BEGIN IMMEDIATE") != STORE_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (results[i] != STORE_OK)
            continue;
        results[i] = upsert_one(q, &a[i], &created[i]);
        if (results[i] == STORE_ERR) {
            sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
            goto out;
        }
    }
    rc = sq_exec(q, "COMMIT");
    if (rc != STORE_OK)
        sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
out:
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int sq_account_set_secrets(void *be, int64_t id, const char *old_scs, const char *old_hcs,
                           const char *old_proxy, const char *new_scs, const char *new_hcs,
                           const char *new_proxy)
{
    struct sq *q = be;
    sqlite3_stmt *st;
    int rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    st = sq_stmt(q, Q_ACC_SECRETS);
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, id);
    sq_bind_str(st, 2, old_scs);
    sq_bind_str(st, 3, old_hcs);
    sq_bind_str(st, 4, new_scs);
    sq_bind_str(st, 5, new_hcs);
    sq_bind_str(st, 6, old_proxy);
    sq_bind_str(st, 7, new_proxy);
    rc = sq_step_done(q, st, "rewrite secrets");
    if (rc == STORE_OK && sqlite3_changes(q->db) == 0)
        rc = STORE_NOTFOUND;
out:
    sq_done(st);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

/* One record inside the apply transaction. */
