/* store_pg.c -- PostgreSQL backend of the store (see store_internal.h).
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
#include "store_internal.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "gg_time.h"

#define PG_POOL 4
#define PG_LOCK_KEY "7261626"   /* advisory lock id for migrations */
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 5000

struct pgslot {
    PGconn *c;
    bool busy;
    bool upsert_prepared;       /* "gg_upsert" exists on this connection */
};

struct pg {
    char *url;                  /* secret: may contain a password */
    char masked[256];
    char *stats_sql;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t down_until;         /* mono ms; reconnects wait until then */
    int backoff_ms;
    struct pgslot slot[PG_POOL];
};

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
static const char sql_sess_get[] = "SELECT conv_key, account_id, session_name, model, turns, "
    "updated_at FROM conv_sessions WHERE conv_key = $1";
static const char sql_sess_del[] = "DELETE FROM conv_sessions WHERE conv_key = $1";
static const char sql_sess_purge[] = "DELETE FROM conv_sessions WHERE updated_at < $1";
static const char sql_log_insert[] = "INSERT INTO request_logs (request_id, ts, model, "
    "account_id, status, error_kind, latency_ms, ttft_ms, bytes_out, prompt_tokens, "
    "completion_tokens, stream) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
static const char sql_log_query[] = "SELECT request_id, ts, model, account_id, status, "
    "error_kind, latency_ms, ttft_ms, bytes_out, prompt_tokens, completion_tokens, stream "
    "FROM request_logs WHERE ts >= $1 AND ($2::bigint = 0 OR account_id = $2) "
    "AND ($3::text IS NULL OR model = $3) AND status BETWEEN $4 AND $5 "
    "ORDER BY ts DESC, id DESC LIMIT $6";
static const char sql_log_purge[] = "DELETE FROM request_logs WHERE id IN "
    "(SELECT id FROM request_logs WHERE ts < $1 ORDER BY ts LIMIT $2)";
static const char sql_stats_prune[] = "DELETE FROM stats_hourly WHERE hour < $1";
static const char sql_key_usage[] = "INSERT INTO key_usage (key_id, day, model, requests, errors, "
    "tokens_in, tokens_out) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key_id, day, model) "
    "DO UPDATE SET requests = key_usage.requests + excluded.requests, errors = key_usage.errors + "
    "excluded.errors, tokens_in = key_usage.tokens_in + excluded.tokens_in, tokens_out = "
    "key_usage.tokens_out + excluded.tokens_out";
static const char sql_kv_get[] = "SELECT value FROM settings WHERE key = $1";
static const char sql_kv_put[] = "INSERT INTO settings (key, value, updated_at) "
    "VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, "
    "updated_at = EXCLUDED.updated_at";

/* ---- small helpers ----------------------------------------------------- */

struct nbuf {                   /* text renderings of integer parameters */
    char b[24][24];
    int used;
};

static const char *num(struct nbuf *nb, int64_t v)
{
    char *p = nb->b[nb->used++ % 24];

    snprintf(p, 24, "%" PRId64, v);
    return p;
}

static void set_pg_error(PGconn *c, const char *what)
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
static PGresult *run(PGconn *c, const char *sql, int n, const char *const *vals,
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
            set_pg_error(c, what);
        }
        *rc = STORE_ERR;
    }
    PQclear(r);
    return NULL;
}

/* Run a command (no rows wanted); STORE_OK or an error code. */
static int cmd(PGconn *c, const char *sql, int n, const char *const *vals, const char *what,
               int64_t *affected)
{
    int rc = STORE_OK;
    PGresult *r = run(c, sql, n, vals, PGRES_COMMAND_OK, what, &rc);

    if (!r)
        return rc;
    if (affected)
        *affected = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return STORE_OK;
}

static int64_t gi(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static char *gs(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : strdup(PQgetvalue(r, row, col));
}

static void rollback(PGconn *c)
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

static void release(struct pg *p, int i)
{
    PGconn *c = p->slot[i].c;

    if (c && PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) != PQTRANS_IDLE)
        rollback(c);
    pthread_mutex_lock(&p->mu);
    p->slot[i].busy = false;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* Take a connection for this thread; -1 with the error set when none can be
 * made (server down, or in back-off). */
static int acquire(struct pg *p)
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
        release(p, i);
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
    set_pg_error(c, "connect");
    pthread_mutex_lock(&p->mu);
    p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (p->backoff_ms > BACKOFF_MAX_MS)
        p->backoff_ms = BACKOFF_MAX_MS;
    p->down_until = gg_mono_ms() + p->backoff_ms;
    pthread_mutex_unlock(&p->mu);
    release(p, i);
    return -1;
}

#define CONN(p, i) ((p)->slot[(i)].c)

/* ---- open / migrations ------------------------------------------------- */

static int migrate(PGconn *c)
{
    PGresult *r = NULL;
    int have, rc = STORE_ERR;

    r = PQexec(c, "SELECT pg_advisory_lock(" PG_LOCK_KEY ")");
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        set_pg_error(c, "migration lock");
        goto out;
    }
    PQclear(r);
    r = NULL;
    if (cmd(c, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
               "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())", -1, NULL,
            "create schema_version", NULL) != STORE_OK)
        goto unlock;
    r = run(c, "SELECT COALESCE(MAX(version), 0) FROM schema_version", 0, NULL,
            PGRES_TUPLES_OK, "read schema_version", &rc);
    if (!r)
        goto unlock;
    have = (int)gi(r, 0, 0);
    PQclear(r);
    r = NULL;
    rc = STORE_ERR;
    for (size_t i = 0; i < store_pg_nmigrations; i++) {
        const struct store_migration *m = &store_pg_migrations[i];
        struct nbuf nb = { .used = 0 };
        const char *v[1];

        if (m->version <= have)
            continue;
        v[0] = num(&nb, m->version);
        if (cmd(c, "BEGIN", -1, NULL, "begin", NULL) != STORE_OK)
            goto unlock;
        if (cmd(c, m->sql, -1, NULL, m->name, NULL) != STORE_OK ||
            cmd(c, "INSERT INTO schema_version (version) VALUES ($1)", 1, v,
                "record migration", NULL) != STORE_OK ||
            cmd(c, "COMMIT", -1, NULL, "commit", NULL) != STORE_OK) {
            rollback(c);
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
    i = acquire(p);
    if (i < 0) {
        snprintf(err, errlen, "%s", store_last_error());
        goto fail;
    }
    if (migrate(CONN(p, i)) != STORE_OK) {
        snprintf(err, errlen, "%s: %s", p->masked, store_last_error());
        release(p, i);
        goto fail;
    }
    release(p, i);
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
    int i = acquire(p), rc = STORE_ERR;

    if (i < 0)
        return STORE_ERR;
    r = run(CONN(p, i), "SELECT 1", 0, NULL, PGRES_TUPLES_OK, "ping", &rc);
    if (r)
        rc = STORE_OK;
    PQclear(r);
    release(p, i);
    return rc;
}

static int pg_schema_version(void *be)
{
    struct pg *p = be;
    PGresult *r;
    int i = acquire(p), rc = STORE_ERR, v = -1;

    if (i < 0)
        return -1;
    r = run(CONN(p, i), "SELECT COALESCE(MAX(version), 0) FROM schema_version", 0, NULL,
            PGRES_TUPLES_OK, "schema version", &rc);
    if (r)
        v = (int)gi(r, 0, 0);
    PQclear(r);
    release(p, i);
    return v;
}

static void read_account(const PGresult *r, int row, struct store_account *a)
{
    a->id = gi(r, row, 0);
    a->name = gs(r, row, 1);
    a->secure_c_ses = gs(r, row, 2);
    a->host_c_oses = gs(r, row, 3);
    a->csesidx = gs(r, row, 4);
    a->config_id = gs(r, row, 5);
    a->is_active = PQgetvalue(r, row, 6)[0] == 't';
    a->status = gs(r, row, 7);
    a->reason = gs(r, row, 8);
    a->cooldown_until = gi(r, row, 9);
    a->fail_count = gi(r, row, 10);
    a->proxy = gs(r, row, 11);
    a->note = gs(r, row, 12);
    a->expires_at = gi(r, row, 13);
    a->last_used_at = gi(r, row, 14);
    a->created_at = gi(r, row, 15);
    a->updated_at = gi(r, row, 16);
    a->requests_total = gi(r, row, 17);
    a->errors_total = gi(r, row, 18);
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
    v[8] = num(nb, a->cooldown_until);
    v[9] = num(nb, a->fail_count);
    v[10] = a->proxy;
    v[11] = a->note;
    v[12] = num(nb, a->expires_at);
    v[13] = num(nb, a->last_used_at);
    v[14] = num(nb, a->created_at);
    v[15] = num(nb, a->updated_at);
    v[16] = num(nb, a->requests_total);
    v[17] = num(nb, a->errors_total);
    v[18] = num(nb, a->id);
}

static int pg_account_list(void *be, struct store_account **out, size_t *n)
{
    struct pg *p = be;
    struct store_account *list = NULL;
    PGresult *r;
    int i = acquire(p), rc = STORE_ERR, rows;

    *out = NULL;
    *n = 0;
    if (i < 0)
        return STORE_ERR;
    r = run(CONN(p, i), sql_acc_list, 0, NULL, PGRES_TUPLES_OK, "list accounts", &rc);
    if (!r)
        goto out;
    rows = PQntuples(r);
    list = calloc(rows ? (size_t)rows : 1, sizeof(*list));
    if (!list) {
        store_set_error("out of memory");
        rc = STORE_ERR;
        goto out;
    }
    for (int k = 0; k < rows; k++)
        read_account(r, k, &list[k]);
    *out = list;
    *n = (size_t)rows;
    rc = STORE_OK;
out:
    PQclear(r);
    release(p, i);
    return rc;
}

static int pg_account_get(void *be, int64_t id, struct store_account *out)
{
    struct pg *p = be;
    struct nbuf nb = { .used = 0 };
    const char *v[1];
    PGresult *r;
    int i = acquire(p), rc = STORE_ERR;

    if (i < 0)
        return STORE_ERR;
    v[0] = num(&nb, id);
    r = run(CONN(p, i), sql_acc_get, 1, v, PGRES_TUPLES_OK, "get account", &rc);
    if (r && PQntuples(r) == 1) {
        read_account(r, 0, out);
        rc = STORE_OK;
    } else if (r) {
        store_set_error("account %lld not found", (long long)id);
        rc = STORE_NOTFOUND;
    }
    PQclear(r);
    release(p, i);
    return rc;
}

static int pg_account_insert(void *be, struct store_account *a)
{
    struct pg *p = be;
    struct nbuf nb = { .used = 0 };
    const char *v[19];
    PGresult *r;
    int i = acquire(p), rc = STORE_ERR;

    if (i < 0)
        return STORE_ERR;
    account_params(a, &nb, v);
    r = run(CONN(p, i), sql_acc_insert, 18, v, PGRES_TUPLES_OK, "insert account", &rc);
    if (r) {
        a->id = gi(r, 0, 0);
        rc = STORE_OK;
    }
    PQclear(r);
    release(p, i);
    return rc;
}

static int pg_account_update(void *be, const struct store_account *a)
{
    struct pg *p = be;
    struct nbuf nb = { .used = 0 };
    const char *v[19];
    int64_t changed = 0;
    int i = acquire(p), rc;

    if (i < 0)
        return STORE_ERR;
    account_params(a, &nb, v);
    rc = cmd(CONN(p, i), sql_acc_update, 19, v, "update account", &changed);
    if (rc == STORE_OK && changed == 0) {
        store_set_error("account %lld not found", (long long)a->id);
        rc = STORE_NOTFOUND;
    }
    release(p, i);
    return rc;
}

static int pg_account_delete(void *be, int64_t id)
{
    struct pg *p = be;
    struct nbuf nb = { .used = 0 };
    const char *v[1];
    int64_t changed = 0;
    int i = acquire(p), rc;

    if (i < 0)
        return STORE_ERR;
    v[0] = num(&nb, id);
    rc = cmd(CONN(p, i), sql_acc_delete, 1, v, "delete account", &changed);
    if (rc == STORE_OK && changed == 0) {
        store_set_error("account %lld not found", (long long)id);
        rc = STORE_NOTFOUND;
    }
    release(p, i);
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
            set_pg_error(c, "upsert account");
            return -2;
        }
    }
    if (!PQpipelineSync(c)) {
        set_pg_error(c, "pipeline sync");
        return -2;
    }
    for (size_t k = from; k < to; k++) {
        PGresult *r;

        if (results[k] != STORE_OK)
            continue;
        r = PQgetResult(c);
        if (!r) {
            set_pg_error(c, "upsert account");
            return -2;
        }
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
            a[k].id = gi(r, 0, 0);
            created[k] = PQgetvalue(r, 0, 1)[0] == 't';
            a[k].created_at = gi(r, 0, 2);
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

static int pg_account_upsert_many(void *be, struct store_account *a, size_t n, int *results,
                                  bool *created)
{
    struct pg *p = be;
    PGconn *c;
    int i = acquire(p), rc = STORE_ERR;

    if (i < 0)
        return STORE_ERR;
    c = CONN(p, i);
    if (!p->slot[i].upsert_prepared) {
        PGresult *r = PQprepare(c, "gg_upsert", sql_acc_upsert, 18, NULL);
        bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;

        PQclear(r);
        if (!ok) {
            set_pg_error(c, "prepare upsert");
            goto out;
        }
        p->slot[i].upsert_prepared = true;
    }
    if (cmd(c, "BEGIN", -1, NULL, "begin", NULL) != STORE_OK)
        goto out;
    if (!PQenterPipelineMode(c)) {
        set_pg_error(c, "pipeline mode");
        rollback(c);
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
        rollback(c);
        goto out;
    }
    rc = cmd(c, "COMMIT", -1, NULL, "commit", NULL);
out:
    release(p, i);
    return rc;
}

static int pg_account_set_secrets(void *be, int64_t id, const char *old_scs,
                                  const char *old_hcs, const char *old_proxy, const char *new_scs,
                                  const char *new_hcs, const char *new_proxy)
{
    struct pg *p = be;
    struct nbuf nb = { .used = 0 };
    const char *v[7];
    int64_t changed = 0;
    int i = acquire(p), rc;

    if (i < 0)
        return STORE_ERR;
    v[0] = num(&nb, id);
    v[1] = old_scs;
    v[2] = old_hcs;
    v[3] = new_scs;
    v[4] = new_hcs;
    v[5] = old_proxy;
    v[6] = new_proxy;
    rc = cmd(CONN(p, i), sql_acc_secrets, 7, v, "rewrite secrets", &changed);
    if (rc == STORE_OK && changed == 0)
        rc = STORE_NOTFOUND;
    release(p, i);
    return rc;
}

static int apply_one(PGconn *c, const struct store_rec *r)
{
    struct nbuf nb = { .used = 0 };
    const struct store_reqlog *l;
    const char *v[12];
    const char *sql = NULL;
    int64_t changed = 0;
    int n = 0, rc;

    switch (r->kind) {
    case STORE_REC_TOUCH:
        sql = sql_touch;
        v[n++] = num(&nb, r->u.touch.account_id);
        v[n++] = num(&nb, r->u.touch.last_used_at);
        v[n++] = num(&nb, r->u.touch.req_delta);
        v[n++] = num(&nb, r->u.touch.err_delta);
        break;
    case STORE_REC_STATE:
        sql = sql_state;
        v[n++] = num(&nb, r->u.state.account_id);
        v[n++] = r->u.state.status ? r->u.state.status : "active";
        v[n++] = r->u.state.reason;
        v[n++] = num(&nb, r->u.state.cooldown_until);
        v[n++] = num(&nb, r->u.state.fail_count);
        v[n++] = num(&nb, r->u.state.updated_at ? r->u.state.updated_at : gg_now_ms());
        break;
    case STORE_REC_SESSION:
        sql = sql_sess_put;
        v[n++] = r->u.session.conv_key;
        v[n++] = num(&nb, r->u.session.account_id);
        v[n++] = r->u.session.session_name;
        v[n++] = r->u.session.model;
        v[n++] = num(&nb, r->u.session.turns);
        v[n++] = num(&nb, r->u.session.updated_at ? r->u.session.updated_at : gg_now_ms());
        break;
    case STORE_REC_SESSION_DEL:
        sql = sql_sess_del;
        v[n++] = r->u.session.conv_key;
        break;
    case STORE_REC_REQLOG:
        l = &r->u.reqlog;
        sql = sql_log_insert;
        v[n++] = l->request_id;
        v[n++] = num(&nb, l->ts);
        v[n++] = l->model;
        v[n++] = num(&nb, l->account_id);
        v[n++] = num(&nb, l->status);
        v[n++] = l->error_kind;
        v[n++] = num(&nb, l->latency_ms);
        v[n++] = num(&nb, l->ttft_ms);
        v[n++] = num(&nb, l->bytes_out);
        v[n++] = num(&nb, l->prompt_tokens);
        v[n++] = num(&nb, l->completion_tokens);
        v[n++] = l->stream ? "t" : "f";
        break;
    case STORE_REC_KEY_USAGE:
        sql = sql_key_usage;
        v[n++] = num(&nb, r->u.key_usage.key_id);
        v[n++] = r->u.key_usage.day;
        v[n++] = r->u.key_usage.model;
        v[n++] = num(&nb, r->u.key_usage.requests);
        v[n++] = num(&nb, r->u.key_usage.errors);
        v[n++] = num(&nb, r->u.key_usage.tokens_in);
        v[n++] = num(&nb, r->u.key_usage.tokens_out);
        break;
    }
    rc = cmd(c, sql, n, v, "apply", &changed);
    if (rc == STORE_OK && changed == 0)
        rc = STORE_NOTFOUND;
    return rc;
}

static int pg_apply(void *be, const struct store_rec *recs, size_t n,
                    const struct store_stat_delta *d, size_t nd, int *results)
{
    struct pg *p = be;
    PGconn *c;
    int i = acquire(p), rc = STORE_ERR;

    if (i < 0)
        return STORE_ERR;
    c = CONN(p, i);
    if (cmd(c, "BEGIN", -1, NULL, "begin", NULL) != STORE_OK)
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
        if (cmd(c, p->stats_sql, STORE_STAT_NCOLS, v, "stats upsert", NULL) != STORE_OK)
            goto fail;
    }
    if (cmd(c, "COMMIT", -1, NULL, "commit", NULL) == STORE_OK) {
        rc = STORE_OK;
        goto out;
    }
fail:
    rc = STORE_ERR;
    rollback(c);
out:
    release(p, i);
    return rc;
}

static int pg_session_get(void *be, const char *conv_key, struct store_session *out)
{
    struct pg *p = be;
    const char *v[1] = { conv_key };
    PGresult *r;
    int i = acquire(p), rc = STORE_ERR;

    if (i < 0)
        return STORE_ERR;
    r = run(CONN(p, i), sql_sess_get, 1, v, PGRES_TUPLES_OK, "get session", &rc);
    if (r && PQntuples(r) == 1) {
        out->conv_key = gs(r, 0, 0);
        out->account_id = gi(r, 0, 1);
        out->session_name = gs(r, 0, 2);
        out->model = gs(r, 0, 3);
        out->turns = gi(r, 0, 4);
        out->updated_at = gi(r, 0, 5);
        rc = STORE_OK;
    } else if (r) {
        store_set_error("session not found");
        rc = STORE_NOTFOUND;
    }
    PQclear(r);
    release(p, i);
    return rc;
}

/* One-shot command with up to two integer parameters. */
static int simple(struct pg *p, const char *sql, int n, int64_t a, int64_t b, const char *what,
                  int64_t *affected)
{
    struct nbuf nb = { .used = 0 };
    const char *v[2];
    int i = acquire(p), rc;

    if (i < 0)
        return STORE_ERR;
    v[0] = num(&nb, a);
    v[1] = num(&nb, b);
    rc = cmd(CONN(p, i), sql, n, v, what, affected);
    release(p, i);
    return rc;
}

static int pg_session_purge(void *be, int64_t older_than)
{
    return simple(be, sql_sess_purge, 1, older_than, 0, "purge sessions", NULL);
}

static int pg_stats_prune(void *be, int64_t before_hour)
{
    return simple(be, sql_stats_prune, 1, before_hour, 0, "prune stats", NULL);
}

static int pg_reqlog_purge(void *be, int64_t before, size_t batch, int64_t *deleted)
{
    int64_t ch = 0;
    int rc;

    do {
        rc = simple(be, sql_log_purge, 2, before, (int64_t)batch, "purge request log", &ch);
        if (rc != STORE_OK)
            return rc;
        *deleted += ch;
    } while (ch == (int64_t)batch);
    return STORE_OK;
}

static int pg_reqlog_query(void *be, const struct store_reqlog_filter *f,
                           struct store_reqlog **out, size_t *n)
{
    struct pg *p = be;
    struct nbuf nb = { .used = 0 };
    struct store_reqlog *list = NULL;
    const char *v[6];
    PGresult *r;
    int i, rc = STORE_ERR, rows;

    v[0] = num(&nb, f->since);
    v[1] = num(&nb, f->account_id);
    v[2] = f->model;
    v[3] = num(&nb, f->status_max ? f->status_min : 0);
    v[4] = num(&nb, f->status_max ? f->status_max : 999);
    v[5] = num(&nb, (int64_t)(f->limit ? f->limit : 100));
    i = acquire(p);
    if (i < 0)
        return STORE_ERR;
    r = run(CONN(p, i), sql_log_query, 6, v, PGRES_TUPLES_OK, "query request log", &rc);
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

        l->request_id = gs(r, k, 0);
        l->ts = gi(r, k, 1);
        l->model = gs(r, k, 2);
        l->account_id = gi(r, k, 3);
        l->status = (int)gi(r, k, 4);
        l->error_kind = gs(r, k, 5);
        l->latency_ms = gi(r, k, 6);
        l->ttft_ms = gi(r, k, 7);
        l->bytes_out = gi(r, k, 8);
        l->prompt_tokens = gi(r, k, 9);
        l->completion_tokens = gi(r, k, 10);
        l->stream = PQgetvalue(r, k, 11)[0] == 't';
    }
    *out = list;
    *n = (size_t)rows;
    rc = STORE_OK;
out:
    PQclear(r);
    release(p, i);
    return rc;
}

static int pg_stats_query(void *be, const char *sql, int64_t since_hour,
                          struct store_stat_row **out, size_t *n)
{
    struct pg *p = be;
    struct nbuf nb = { .used = 0 };
    struct store_stat_row *list = NULL;
    const char *v[1];
    PGresult *r;
    int i = acquire(p), rc = STORE_ERR, rows;

    if (i < 0)
        return STORE_ERR;
    v[0] = num(&nb, since_hour);
    r = run(CONN(p, i), sql, 1, v, PGRES_TUPLES_OK, "stats query", &rc);
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

        row->model = gs(r, k, 0);
        row->account_id = gi(r, k, 1);
        row->requests = gi(r, k, col++);
        row->errors = gi(r, k, col++);
        row->err_rate_limit = gi(r, k, col++);
        row->err_auth = gi(r, k, col++);
        row->err_upstream = gi(r, k, col++);
        row->err_client = gi(r, k, col++);
        row->prompt_tokens = gi(r, k, col++);
        row->completion_tokens = gi(r, k, col++);
        for (int j = 0; j < STORE_HIST_BUCKETS; j++)
            row->lat_hist[j] = gi(r, k, col++);
        for (int j = 0; j < STORE_HIST_BUCKETS; j++)
            row->ttft_hist[j] = gi(r, k, col++);
    }
    *out = list;
    *n = (size_t)rows;
    rc = STORE_OK;
out:
    PQclear(r);
    release(p, i);
    return rc;
}

static int pg_kv_get(void *be, const char *key, char **value)
{
    struct pg *p = be;
    const char *v[1] = { key };
    PGresult *r;
    int i = acquire(p), rc = STORE_ERR;

    if (i < 0)
        return STORE_ERR;
    r = run(CONN(p, i), sql_kv_get, 1, v, PGRES_TUPLES_OK, "get setting", &rc);
    if (r && PQntuples(r) == 1) {
        *value = gs(r, 0, 0);
        rc = *value ? STORE_OK : STORE_ERR;
    } else if (r) {
        store_set_error("setting not found");
        rc = STORE_NOTFOUND;
    }
    PQclear(r);
    release(p, i);
    return rc;
}

static int pg_kv_put(void *be, const char *key, const char *value, int64_t now)
{
    struct pg *p = be;
    struct nbuf nb = { .used = 0 };
    const char *v[3];
    int i = acquire(p), rc;

    if (i < 0)
        return STORE_ERR;
    v[0] = key;
    v[1] = value;
    v[2] = num(&nb, now);
    rc = cmd(CONN(p, i), sql_kv_put, 3, v, "put setting", NULL);
    release(p, i);
    return rc;
}

/* store_ops.query: one statement on a pooled connection. */
static int pg_query(void *be, const char *sql, const char *const *params, int nparams,
                    struct store_rows *rows)
{
    struct pg *p = be;
    int i = acquire(p), rc = STORE_ERR;
    PGresult *r;

    if (rows)
        memset(rows, 0, sizeof(*rows));
    if (i < 0)
        return STORE_ERR;
    r = PQexecParams(CONN(p, i), sql, nparams, NULL, params, NULL, NULL, 0);
    if (r && (PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK)) {
        rc = STORE_OK;
        if (rows && PQresultStatus(r) == PGRES_TUPLES_OK) {
            size_t nr = (size_t)PQntuples(r), nc = (size_t)PQnfields(r);

            rows->cell = calloc(nr * nc > 0 ? nr * nc : 1, sizeof(*rows->cell));
            if (!rows->cell) {
                store_set_error("out of memory");
                rc = STORE_ERR;
            } else {
                rows->nrows = nr;
                rows->ncols = nc;
                for (size_t y = 0; y < nr; y++)
                    for (size_t x = 0; x < nc; x++)
                        rows->cell[y * nc + x] = gs(r, (int)y, (int)x);
            }
        }
    } else {
        const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

        rc = state && strcmp(state, "23505") == 0 ? STORE_CONFLICT : STORE_ERR;
        set_pg_error(CONN(p, i), "query");
    }
    PQclear(r);
    release(p, i);
    return rc;
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
