/* store_pg_kv.c -- the PostgreSQL backend's keyed reads: conv_sessions (get
 * by conv_key, purge by age; writes go through apply() in store_pg_log.c)
 * and the settings table (kv get/put).  Shared helpers and contract:
 * store_pg_internal.h.
 */
#include "store_pg_internal.h"

#include <stdlib.h>
#include <string.h>

static const char sql_sess_get[] = "SELECT conv_key, account_id, session_name, model, turns, "
    "updated_at FROM conv_sessions WHERE conv_key = $1";
static const char sql_sess_purge[] = "DELETE FROM conv_sessions WHERE updated_at < $1";
static const char sql_kv_get[] = "SELECT value FROM settings WHERE key = $1";
static const char sql_kv_put[] = "INSERT INTO settings (key, value, updated_at) "
    "VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, "
    "updated_at = EXCLUDED.updated_at";

int pg_session_get(void *be, const char *conv_key, struct store_session *out)
{
    struct pg *p = be;
    const char *v[1] = { conv_key };
    PGresult *r;
    int i = spg_acquire(p), rc = STORE_ERR, oom = 0;

    if (i < 0)
        return STORE_ERR;
    r = spg_run(CONN(p, i), sql_sess_get, 1, v, PGRES_TUPLES_OK, "get session", &rc);
    if (r && PQntuples(r) == 1) {
        out->conv_key = spg_gs(r, 0, 0, &oom);
        out->account_id = spg_gi(r, 0, 1);
        out->session_name = spg_gs(r, 0, 2, &oom);
        out->model = spg_gs(r, 0, 3, &oom);
        out->turns = spg_gi(r, 0, 4);
        out->updated_at = spg_gi(r, 0, 5);
        rc = STORE_OK;
        if (oom) {
            store_session_clear(out);
            store_set_error("out of memory");
            rc = STORE_ERR;
        }
    } else if (r) {
        store_set_error("session not found");
        rc = STORE_NOTFOUND;
    }
    PQclear(r);
    spg_release(p, i);
    return rc;
}

int pg_session_purge(void *be, int64_t older_than)
{
    return spg_simple(be, sql_sess_purge, 1, older_than, 0, "purge sessions", NULL);
}

int pg_kv_get(void *be, const char *key, char **value)
{
    struct pg *p = be;
    const char *v[1] = { key };
    PGresult *r;
    int i = spg_acquire(p), rc = STORE_ERR, oom = 0;

    if (i < 0)
        return STORE_ERR;
    r = spg_run(CONN(p, i), sql_kv_get, 1, v, PGRES_TUPLES_OK, "get setting", &rc);
    if (r && PQntuples(r) == 1) {
        *value = spg_gs(r, 0, 0, &oom);
        rc = *value ? STORE_OK : STORE_ERR;
        if (oom)
            store_set_error("out of memory");
    } else if (r) {
        store_set_error("setting not found");
        rc = STORE_NOTFOUND;
    }
    PQclear(r);
    spg_release(p, i);
    return rc;
}

int pg_kv_put(void *be, const char *key, const char *value, int64_t now)
{
    struct pg *p = be;
    struct nbuf nb = { .used = 0 };
    const char *v[3];
    int i = spg_acquire(p), rc;

    if (i < 0)
        return STORE_ERR;
    v[0] = key;
    v[1] = value;
    v[2] = spg_num(&nb, now);
    rc = spg_cmd(CONN(p, i), sql_kv_put, 3, v, "put setting", NULL);
    spg_release(p, i);
    return rc;
}
