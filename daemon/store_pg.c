/* store_pg.c -- PostgreSQL backend of the store (see store_internal.h):
 * the connection pool, open, migrations, the helpers shared with its other
 * parts, ping and the ops table.  The ops themselves live in
 * store_pg_accounts.c, store_pg_log.c and store_pg_kv.c (map and shared
 * contract in store_pg_internal.h).
 *
 * libpq with parameterised statements only (PQexecParams; the only
 * parameterless PQexec calls run fixed text: BEGIN/COMMIT/ROLLBACK and the
 * compiled-in migrations).  A pool of PG_POOL connections, each handed to
 * one thread at a time (libpq's rule).  A connection found bad is reset on
 * its next use; while the server is unreachable, reconnects back off
 * (250 ms doubling to 5 s, pool-wide) and ops fail fast with STORE_ERR.
 * connect_timeout=2 bounds a connect attempt.  Every PGresult is cleared.
 *
 * Account times are TIMESTAMPTZ, converted to/from Unix ms in SQL by the
 * gg_ms2ts/gg_ts2ms functions created by migration 001 (0 = NULL).
 * Migrations run under a session advisory lock so two processes starting
 * at once apply them exactly once.  The URL (which may hold a password) is
 * never put in a message; only a masked copy is.
 */
#include "store_pg_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gg_time.h"

#define PG_LOCK_KEY "7261626"   /* advisory lock id for migrations */
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 5000

/* ---- small helpers ----------------------------------------------------- */

const char *spg_num(struct nbuf *nb, int64_t v)
{
    char *p = nb->b[nb->used++ % 24];

    snprintf(p, 24, "%" PRId64, v);
    return p;
}

void spg_set_error(PGconn *c, const char *what)
{
    char msg[300];
    size_t n;

    snprintf(msg, sizeof(msg), "%s", c ? PQerrorMessage(c) : "out of memory");
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    store_set_error("postgresql: %s: %s", what, msg);
}

/* Run a statement; returns the result when its status is `want`, else
 * clears it, sets the error and *rc (STORE_CONFLICT for unique_violation,
 * else STORE_ERR) and returns NULL. */
PGresult *spg_run(PGconn *c, const char *sql, int n, const char *const *vals,
                  ExecStatusType want, const char *what, int *rc)
{
    PGresult *r = n >= 0 ? PQexecParams(c, sql, n, NULL, vals, NULL, NULL, 0) : PQexec(c, sql);
    const char *state;

    if (r && PQresultStatus(r) == want)
        return r;
    state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state && strcmp(state, "23505") == 0) {
        store_set_error("postgresql: %s: duplicate key", what);
        *rc = STORE_CONFLICT;
    } else {
        if (r && PQresultErrorMessage(r)[0]) {
            char msg[300];
            size_t len;

            snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(r));
            len = strlen(msg);
            while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
                msg[--len] = '\0';
            store_set_error("postgresql: %s: %s", what, msg);
        } else {
            spg_set_error(c, what);
        }
        *rc = STORE_ERR;
    }
    PQclear(r);
    return NULL;
}

/* Run a command (no rows wanted); STORE_OK or an error code. */
int spg_cmd(PGconn *c, const char *sql, int n, const char *const *vals, const char *what,
            int64_t *affected)
{
    int rc = STORE_OK;
    PGresult *r = spg_run(c, sql, n, vals, PGRES_COMMAND_OK, what, &rc);

    if (!r)
        return rc;
    if (affected)
        *affected = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return STORE_OK;
}

int64_t spg_gi(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

char *spg_gs(const PGresult *r, int row, int col, int *oom)
{
    char *s;

    if (PQgetisnull(r, row, col))
        return NULL;
    s = strdup(PQgetvalue(r, row, col));
    if (!s)
        ++*oom;
    return s;
}

void spg_rollback(PGconn *c)
{
    PQclear(PQexec(c, "ROLLBACK"));
}

static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* ---- pool -------------------------------------------------------------- */

static PGconn *pg_connect(struct pg *p)
{
    const char *keys[] = { "dbname", "connect_timeout", "application_name", NULL };
    const char *vals[] = { p->url, "2", "gemgate", NULL };
    PGconn *c = PQconnectdbParams(keys, vals, 1);

    if (c)
        PQsetNoticeProcessor(c, quiet_notice, NULL);
    return c;
}

void spg_release(struct pg *p, int i)
{
    PGconn *c = p->slot[i].c;

    if (c && PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) != PQTRANS_IDLE)
        spg_rollback(c);
    pthread_mutex_lock(&p->mu);
    p->slot[i].busy = false;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* Take a connection for this thread; -1 with the error set when none can be
 * made (server down, or in back-off). */
int spg_acquire(struct pg *p)
{
    int i = -1;
    int64_t now;
    PGconn *c;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        for (int k = 0; k < PG_POOL; k++) {        /* prefer a live one */
            if (!p->slot[k].busy && (i < 0 || (p->slot[k].c && !p->slot[i].c)))
                i = k;
        }
        if (i >= 0)
            break;
        pthread_cond_wait(&p->cv, &p->mu);
    }
    p->slot[i].busy = true;
    c = p->slot[i].c;
    if (c && PQstatus(c) == CONNECTION_OK) {
        pthread_mutex_unlock(&p->mu);
        return i;
    }
    now = gg_mono_ms();
    if (now < p->down_until) {
        pthread_mutex_unlock(&p->mu);
        store_set_error("postgresql: %s unreachable (retrying in %lld ms)", p->masked,
                        (long long)(p->down_until - now));
        spg_release(p, i);
        return -1;
    }
    pthread_mutex_unlock(&p->mu);

    if (c) {
        PQreset(c);
        p->slot[i].upsert_prepared = false;
    } else {
        c = pg_connect(p);
        pthread_mutex_lock(&p->mu);
        p->slot[i].c = c;
        p->slot[i].upsert_prepared = false;
        pthread_mutex_unlock(&p->mu);
    }
    if (c && PQstatus(c) == CONNECTION_OK) {
        pthread_mutex_lock(&p->mu);
        p->backoff_ms = 0;
        p->down_until = 0;
        pthread_mutex_unlock(&p->mu);
        return i;
    }
    spg_set_error(c, "connect");
    pthread_mutex_lock(&p->mu);
    p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (p->backoff_ms > BACKOFF_MAX_MS)
        p->backoff_ms = BACKOFF_MAX_MS;
    p->down_until = gg_mono_ms() + p->backoff_ms;
    pthread_mutex_unlock(&p->mu);
    spg_release(p, i);
    return -1;
}

/* One-shot command with up to two integer parameters. */
int spg_simple(struct pg *p, const char *sql, int n, int64_t a, int64_t b, const char *what,
               int64_t *affected)
{
    struct nbuf nb = { .used = 0 };
    const char *v[2];
    int i = spg_acquire(p), rc;

    if (i < 0)
        return STORE_ERR;
    v[0] = spg_num(&nb, a);
    v[1] = spg_num(&nb, b);
    rc = spg_cmd(CONN(p, i), sql, n, v, what, affected);
    spg_release(p, i);
    return rc;
}

/* ---- open / migrations ------------------------------------------------- */

static int migrate(PGconn *c)
{
    PGresult *r = NULL;
    int have, rc = STORE_ERR;

    r = PQexec(c, "SELECT pg_advisory_lock(" PG_LOCK_KEY ")");
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        spg_set_error(c, "migration lock");
        goto out;
    }
    PQclear(r);
    r = NULL;
    if (spg_cmd(c, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
               "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())", -1, NULL,
            "create schema_version", NULL) != STORE_OK)
        goto unlock;
    r = spg_run(c, "SELECT COALESCE(MAX(version), 0) FROM schema_version", 0, NULL,
            PGRES_TUPLES_OK, "read schema_version", &rc);
    if (!r)
        goto unlock;
    have = (int)spg_gi(r, 0, 0);
    PQclear(r);
    r = NULL;
    rc = STORE_ERR;
    for (size_t i = 0; i < store_pg_nmigrations; i++) {
        const struct store_migration *m = &store_pg_migrations[i];
        struct nbuf nb = { .used = 0 };
        const char *v[1];

        if (m->version <= have)
            continue;
        v[0] = spg_num(&nb, m->version);
        if (spg_cmd(c, "BEGIN", -1, NULL, "begin", NULL) != STORE_OK)
            goto unlock;
        if (spg_cmd(c, m->sql, -1, NULL, m->name, NULL) != STORE_OK ||
            spg_cmd(c, "INSERT INTO schema_version (version) VALUES ($1)", 1, v,
                "record migration", NULL) != STORE_OK ||
            spg_cmd(c, "COMMIT", -1, NULL, "commit", NULL) != STORE_OK) {
            spg_rollback(c);
            goto unlock;
        }
    }
    rc = STORE_OK;
unlock:
    PQclear(PQexec(c, "SELECT pg_advisory_unlock(" PG_LOCK_KEY ")"));
out:
    PQclear(r);
    return rc;
}

static void pg_close(void *be)
{
    struct pg *p = be;

    if (!p)
        return;
    for (int i = 0; i < PG_POOL; i++)
        PQfinish(p->slot[i].c);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    if (p->url) {
        memset(p->url, 0, strlen(p->url));
        free(p->url);
    }
    free(p->stats_sql);
    free(p);
}

static void *pg_open(const char *url, const char *data_dir, char *err, size_t errlen)
{
    struct pg *p = calloc(1, sizeof(*p));
    int i;

    (void)data_dir;
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    store_mask_url(url, p->masked, sizeof(p->masked));
    p->url = strdup(url);
    p->stats_sql = store_sql_stats_upsert('$');
    if (!p->url || !p->stats_sql) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    i = spg_acquire(p);
    if (i < 0) {
        snprintf(err, errlen, "%s", store_last_error());
        goto fail;
    }
    if (migrate(CONN(p, i)) != STORE_OK) {
        snprintf(err, errlen, "%s: %s", p->masked, store_last_error());
        spg_release(p, i);
        goto fail;
    }
    spg_release(p, i);
    return p;
fail:
    pg_close(p);
    return NULL;
}

/* ---- ops --------------------------------------------------------------- */

static int pg_ping(void *be)
{
    struct pg *p = be;
    PGresult *r;
    int i = spg_acquire(p), rc = STORE_ERR;

    if (i < 0)
        return STORE_ERR;
    r = spg_run(CONN(p, i), "SELECT 1", 0, NULL, PGRES_TUPLES_OK, "ping", &rc);
    if (r)
        rc = STORE_OK;
    PQclear(r);
    spg_release(p, i);
    return rc;
}

static int pg_schema_version(void *be)
{
    struct pg *p = be;
    PGresult *r;
    int i = spg_acquire(p), rc = STORE_ERR, v = -1;

    if (i < 0)
        return -1;
    r = spg_run(CONN(p, i), "SELECT COALESCE(MAX(version), 0) FROM schema_version", 0, NULL,
            PGRES_TUPLES_OK, "schema version", &rc);
    if (r)
        v = (int)spg_gi(r, 0, 0);
    PQclear(r);
    spg_release(p, i);
    return v;
}

const struct store_ops store_pg_ops = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .ping = pg_ping,
    .schema_version = pg_schema_version,
    .account_list = pg_account_list,
    .account_get = pg_account_get,
    .account_insert = pg_account_insert,
    .account_update = pg_account_update,
    .account_delete = pg_account_delete,
    .account_upsert_many = pg_account_upsert_many,
    .account_set_secrets = pg_account_set_secrets,
    .apply = pg_apply,
    .session_get = pg_session_get,
    .session_purge = pg_session_purge,
    .reqlog_query = pg_reqlog_query,
    .reqlog_purge = pg_reqlog_purge,
    .stats_prune = pg_stats_prune,
    .stats_query = pg_stats_query,
    .kv_get = pg_kv_get,
    .kv_put = pg_kv_put,
    .query = pg_query,
};
