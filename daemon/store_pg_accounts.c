/* store_pg_accounts.c -- the PostgreSQL backend's gemini_accounts ops: list,
 * get, insert, update, delete, the one-transaction upsert of an import
 * (INSERT ... ON CONFLICT (csesidx, config_id), sent in pipeline mode in
 * chunks) and the compare-and-set of the sealed secret columns.  Rows move
 * exactly as stored (secrets sealed by store_accounts.c).  Shared helpers
 * and contract: store_pg_internal.h.
 */
#include "store_pg_internal.h"

#include <stdlib.h>
#include <string.h>

#define ACC_COLS "id, name, secure_c_ses, host_c_oses, csesidx, config_id, " \
    "COALESCE(is_active, TRUE), status, reason, gg_ts2ms(cooldown_until), fail_count, proxy, " \
    "note, gg_ts2ms(expires_at), gg_ts2ms(last_used_at), gg_ts2ms(created_at), " \
    "gg_ts2ms(updated_at), requests_total, errors_total"

#define ACC_INSERT "INSERT INTO gemini_accounts (name, secure_c_ses, host_c_oses, csesidx, " \
    "config_id, is_active, status, reason, cooldown_until, fail_count, proxy, note, " \
    "expires_at, last_used_at, created_at, updated_at, requests_total, errors_total) VALUES " \
    "($1, $2, $3, $4, $5, $6, $7, $8, gg_ms2ts($9), $10, $11, $12, gg_ms2ts($13), " \
    "gg_ms2ts($14), gg_ms2ts($15), gg_ms2ts($16), $17, $18)"

static const char sql_acc_list[] = "SELECT " ACC_COLS " FROM gemini_accounts ORDER BY id";
static const char sql_acc_get[] = "SELECT " ACC_COLS " FROM gemini_accounts WHERE id = $1";
static const char sql_acc_insert[] = ACC_INSERT " RETURNING id";
static const char sql_acc_update[] = "UPDATE gemini_accounts SET name = $1, secure_c_ses = $2, "
    "host_c_oses = $3, csesidx = $4, config_id = $5, is_active = $6, status = $7, "
    "reason = $8, cooldown_until = gg_ms2ts($9), fail_count = $10, proxy = $11, note = $12, "
    "expires_at = gg_ms2ts($13), last_used_at = gg_ms2ts($14), updated_at = gg_ms2ts($16), "
    "requests_total = $17, errors_total = $18 WHERE id = $19 AND $15::bigint IS NOT NULL";  /* $15 (created_at) is never changed; it is typed so libpq can pass it */
static const char sql_acc_upsert[] = ACC_INSERT " ON CONFLICT (csesidx, config_id) DO UPDATE "
    "SET name = EXCLUDED.name, secure_c_ses = EXCLUDED.secure_c_ses, "
    "host_c_oses = EXCLUDED.host_c_oses, is_active = EXCLUDED.is_active, "
    "status = EXCLUDED.status, reason = EXCLUDED.reason, "
    "cooldown_until = EXCLUDED.cooldown_until, fail_count = EXCLUDED.fail_count, "
    "proxy = EXCLUDED.proxy, note = EXCLUDED.note, expires_at = EXCLUDED.expires_at, "
    "updated_at = EXCLUDED.updated_at "
    "RETURNING id, (xmax = 0), gg_ts2ms(created_at)";
static const char sql_acc_delete[] = "DELETE FROM gemini_accounts WHERE id = $1";
static const char sql_acc_secrets[] = "UPDATE gemini_accounts SET secure_c_ses = $4, "
    "host_c_oses = $5, proxy = $7 WHERE id = $1 AND secure_c_ses = $2 "
    "AND host_c_oses IS NOT DISTINCT FROM $3::text AND proxy IS NOT DISTINCT FROM $6::text";

/* STORE_OK, or STORE_ERR (out of memory) with a cleared. */
static int read_account(const PGresult *r, int row, struct store_account *a)
{
    int oom = 0;

    a->id = spg_gi(r, row, 0);
    a->name = spg_gs(r, row, 1, &oom);
    a->secure_c_ses = spg_gs(r, row, 2, &oom);
    a->host_c_oses = spg_gs(r, row, 3, &oom);
    a->csesidx = spg_gs(r, row, 4, &oom);
    a->config_id = spg_gs(r, row, 5, &oom);
    a->is_active = PQgetvalue(r, row, 6)[0] == 't';
    a->status = spg_gs(r, row, 7, &oom);
    a->reason = spg_gs(r, row, 8, &oom);
    a->cooldown_until = spg_gi(r, row, 9);
    a->fail_count = spg_gi(r, row, 10);
    a->proxy = spg_gs(r, row, 11, &oom);
    a->note = spg_gs(r, row, 12, &oom);
    a->expires_at = spg_gi(r, row, 13);
    a->last_used_at = spg_gi(r, row, 14);
    a->created_at = spg_gi(r, row, 15);
    a->updated_at = spg_gi(r, row, 16);
    a->requests_total = spg_gi(r, row, 17);
    a->errors_total = spg_gi(r, row, 18);
    if (oom) {
        store_account_clear(a);
        store_set_error("out of memory");
        return STORE_ERR;
    }
    return STORE_OK;
}

/* Parameters $1..$18 (and $19 = id) of an account. */
static void account_params(const struct store_account *a, struct nbuf *nb, const char *v[19])
{
    v[0] = a->name;
    v[1] = a->secure_c_ses;
    v[2] = a->host_c_oses;
    v[3] = a->csesidx;
    v[4] = a->config_id;
    v[5] = a->is_active ? "t" : "f";
    v[6] = a->status;
    v[7] = a->reason;
    v[8] = spg_num(nb, a->cooldown_until);
    v[9] = spg_num(nb, a->fail_count);
    v[10] = a->proxy;
    v[11] = a->note;
    v[12] = spg_num(nb, a->expires_at);
    v[13] = spg_num(nb, a->last_used_at);
    v[14] = spg_num(nb, a->created_at);
    v[15] = spg_num(nb, a->updated_at);
    v[16] = spg_num(nb, a->requests_total);
    v[17] = spg_num(nb, a->errors_total);
    v[18] = spg_num(nb, a->id);
}

int pg_account_list(void *be, struct store_account **out, size_t *n)
{
    struct pg *p = be;
    struct store_account *list = NULL;
    PGresult *r;
    int i = spg_acquire(p), rc = STORE_ERR, rows;

    *out = NULL;
    *n = 0;
    if (i < 0)
        return STORE_ERR;
    r = spg_run(CONN(p, i), sql_acc_list, 0, NULL, PGRES_TUPLES_OK, "list accounts", &rc);
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
        if (read_account(r, k, &list[k]) != STORE_OK) {
            store_account_list_free(list, (size_t)k);
            rc = STORE_ERR;
            goto out;
        }
    }
    *out = list;
    *n = (size_t)rows;
    rc = STORE_OK;
out:
    PQclear(r);
    spg_release(p, i);
    return rc;
}

int pg_account_get(void *be, int64_t id, struct store_account *out)
{
    struct pg *p = be;
    struct nbuf nb = { .used = 0 };
    const char *v[1];
    PGresult *r;
    int i = spg_acquire(p), rc = STORE_ERR;

    if (i < 0)
        return STORE_ERR;
    v[0] = spg_num(&nb, id);
    r = spg_run(CONN(p, i), sql_acc_get, 1, v, PGRES_TUPLES_OK, "get account", &rc);
    if (r && PQntuples(r) == 1) {
        rc = read_account(r, 0, out);
    } else if (r) {
        store_set_error("account %lld not found", (long long)id);
        rc = STORE_NOTFOUND;
    }
    PQclear(r);
    spg_release(p, i);
    return rc;
}

int pg_account_insert(void *be, struct store_account *a)
{
    struct pg *p = be;
    struct nbuf nb = { .used = 0 };
    const char *v[19];
    PGresult *r;
    int i = spg_acquire(p), rc = STORE_ERR;

    if (i < 0)
        return STORE_ERR;
    account_params(a, &nb, v);
    r = spg_run(CONN(p, i), sql_acc_insert, 18, v, PGRES_TUPLES_OK, "insert account", &rc);
    if (r) {
        a->id = spg_gi(r, 0, 0);
        rc = STORE_OK;
    }
    PQclear(r);
    spg_release(p, i);
    return rc;
}

int pg_account_update(void *be, const struct store_account *a)
{
    struct pg *p = be;
    struct nbuf nb = { .used = 0 };
    const char *v[19];
    int64_t changed = 0;
    int i = spg_acquire(p), rc;

    if (i < 0)
        return STORE_ERR;
    account_params(a, &nb, v);
    rc = spg_cmd(CONN(p, i), sql_acc_update, 19, v, "update account", &changed);
    if (rc == STORE_OK && changed == 0) {
        store_set_error("account %lld not found", (long long)a->id);
        rc = STORE_NOTFOUND;
    }
    spg_release(p, i);
    return rc;
}

int pg_account_delete(void *be, int64_t id)
{
    struct pg *p = be;
    struct nbuf nb = { .used = 0 };
    const char *v[1];
    int64_t changed = 0;
    int i = spg_acquire(p), rc;

    if (i < 0)
        return STORE_ERR;
    v[0] = spg_num(&nb, id);
    rc = spg_cmd(CONN(p, i), sql_acc_delete, 1, v, "delete account", &changed);
    if (rc == STORE_OK && changed == 0) {
        store_set_error("account %lld not found", (long long)id);
        rc = STORE_NOTFOUND;
    }
    spg_release(p, i);
    return rc;
}

/* Drop a connection whose protocol state is unknown; the next acquire of
 * this slot reconnects.  Call while holding the slot. */
static void discard(struct pg *p, int i)
{
    pthread_mutex_lock(&p->mu);
    PQfinish(p->slot[i].c);
    p->slot[i].c = NULL;
    pthread_mutex_unlock(&p->mu);
}

#define UPSERT_CHUNK 200    /* statements per pipeline sync: one round trip */

/* Send rows [from, to) in pipeline mode and read their results.  Returns
 * STORE_OK, STORE_ERR (statement failed: transaction aborted) or -2 (the
 * connection is in an unknown state). */
static int upsert_chunk(PGconn *c, struct store_account *a, size_t from, size_t to,
                        const int *results, bool *created)
{
    int rc = STORE_OK;

    for (size_t k = from; k < to; k++) {
        struct nbuf nb = { .used = 0 };
        const char *v[19];

        if (results[k] != STORE_OK)
            continue;
        account_params(&a[k], &nb, v);
        if (!PQsendQueryPrepared(c, "gg_upsert", 18, v, NULL, NULL, 0)) {
            spg_set_error(c, "upsert account");
            return -2;
        }
    }
    if (!PQpipelineSync(c)) {
        spg_set_error(c, "pipeline sync");
        return -2;
    }
    for (size_t k = from; k < to; k++) {
        PGresult *r;

        if (results[k] != STORE_OK)
            continue;
        r = PQgetResult(c);
        if (!r) {
            spg_set_error(c, "upsert account");
            return -2;
        }
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
            a[k].id = spg_gi(r, 0, 0);
            created[k] = PQgetvalue(r, 0, 1)[0] == 't';
            a[k].created_at = spg_gi(r, 0, 2);
        } else if (rc == STORE_OK) {
            if (PQresultStatus(r) != PGRES_PIPELINE_ABORTED)
                store_set_error("postgresql: upsert account: %s", PQresultErrorMessage(r));
            rc = STORE_ERR;
        }
        PQclear(r);
        r = PQgetResult(c);             /* end of this statement's results */
        if (r) {
            PQclear(r);
            return -2;
        }
    }
    {
        PGresult *r = PQgetResult(c);
        bool sync = r && PQresultStatus(r) == PGRES_PIPELINE_SYNC;

        PQclear(r);
        if (!sync)
            return -2;
    }
    return rc;
}

int pg_account_upsert_many(void *be, struct store_account *a, size_t n, int *results,
                           bool *created)
{
    struct pg *p = be;
    PGconn *c;
    int i = spg_acquire(p), rc = STORE_ERR;

    if (i < 0)
        return STORE_ERR;
    c = CONN(p, i);
    if (!p->slot[i].upsert_prepared) {
        PGresult *r = PQprepare(c, "gg_upsert", sql_acc_upsert, 18, NULL);
        bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;

        PQclear(r);
        if (!ok) {
            spg_set_error(c, "prepare upsert");
            goto out;
        }
        p->slot[i].upsert_prepared = true;
    }
    if (spg_cmd(c, "BEGIN", -1, NULL, "begin", NULL) != STORE_OK)
        goto out;
    if (!PQenterPipelineMode(c)) {
        spg_set_error(c, "pipeline mode");
        spg_rollback(c);
        goto out;
    }
    for (size_t k = 0; k < n && rc != -2; k += UPSERT_CHUNK) {
        rc = upsert_chunk(c, a, k, k + UPSERT_CHUNK < n ? k + UPSERT_CHUNK : n, results, created);
        if (rc != STORE_OK)
            break;
    }
    if (rc == -2 || !PQexitPipelineMode(c)) {
        discard(p, i);                  /* server rolls back on disconnect */
        rc = STORE_ERR;
        goto out;
    }
    if (rc != STORE_OK) {
        spg_rollback(c);
        goto out;
    }
    rc = spg_cmd(c, "COMMIT", -1, NULL, "commit", NULL);
out:
    spg_release(p, i);
    return rc;
}

int pg_account_set_secrets(void *be, int64_t id, const char *old_scs,
                           const char *old_hcs, const char *old_proxy, const char *new_scs,
                           const char *new_hcs, const char *new_proxy)
{
    struct pg *p = be;
    struct nbuf nb = { .used = 0 };
    const char *v[7];
    int64_t changed = 0;
    int i = spg_acquire(p), rc;

    if (i < 0)
        return STORE_ERR;
    v[0] = spg_num(&nb, id);
    v[1] = old_scs;
    v[2] = old_hcs;
    v[3] = new_scs;
    v[4] = new_hcs;
    v[5] = old_proxy;
    v[6] = new_proxy;
    rc = spg_cmd(CONN(p, i), sql_acc_secrets, 7, v, "rewrite secrets", &changed);
    if (rc == STORE_OK && changed == 0)
        rc = STORE_NOTFOUND;
    spg_release(p, i);
    return rc;
}
