/* store_pg_internal.h -- what the parts of the PostgreSQL backend share.
 * Private to store_pg*.c; nothing here is part of the store API.
 *
 * The backend is a small pool of libpq connections (see store_pg.c) and is
 * split by the tables it serves:
 *   store_pg.c           pool (acquire/release, reconnect back-off), open,
 *                        migrations, the helpers below, ping, the ops table
 *   store_pg_accounts.c  gemini_accounts: list/get/insert/update/delete,
 *                        pipelined upsert (import), secrets compare-and-set
 *   store_pg_log.c       the batched write (apply: touch/state/session/
 *                        request-log records + stats_hourly upserts),
 *                        request-log query and purge, stats query/prune
 *   store_pg_kv.c        conv_sessions reads and purge, settings (kv)
 *
 * Ownership: struct pg is owned by store_pg.c (pg_open/pg_close); the parts
 * borrow it through the void *be of their op.  A slot index from
 * spg_acquire() is this thread's until spg_release(); CONN() is its
 * connection.  A PGresult from spg_run() belongs to the caller (PQclear).
 * spg_gs() returns a malloc'd copy (NULL for SQL NULL; out of memory is
 * counted in its *oom and the op fails with STORE_ERR).
 *
 * Failure contract: like store_internal.h -- STORE_OK / STORE_NOTFOUND /
 * STORE_CONFLICT / STORE_ERR, with store_set_error() called before an
 * error is returned; messages carry the masked URL only, never the URL.
 */
#ifndef STORE_PG_INTERNAL_H
#define STORE_PG_INTERNAL_H

#include <pthread.h>

#include <libpq-fe.h>

#include "store_internal.h"

#define PG_POOL 4

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

struct nbuf {                   /* text renderings of integer parameters */
    char b[24][24];
    int used;
};

#define CONN(p, i) ((p)->slot[(i)].c)

/* ---- helpers (store_pg.c) ------------------------------------------------ */

/* Text of an integer parameter, kept in nb (24 slots, reused in turn). */
const char *spg_num(struct nbuf *nb, int64_t v);
void spg_set_error(PGconn *c, const char *what);   /* PQerrorMessage, trimmed */
/* Run a statement (n < 0: PQexec of fixed text); returns the result when its
 * status is `want`, else clears it, sets the error and *rc (STORE_CONFLICT
 * for unique_violation, else STORE_ERR) and returns NULL. */
PGresult *spg_run(PGconn *c, const char *sql, int n, const char *const *vals,
                  ExecStatusType want, const char *what, int *rc);
/* Run a command (no rows wanted); STORE_OK or an error code.  *affected may
 * be NULL. */
int spg_cmd(PGconn *c, const char *sql, int n, const char *const *vals, const char *what,
            int64_t *affected);
int64_t spg_gi(const PGresult *r, int row, int col);   /* NULL reads 0 */
/* Copy of a text column: NULL for SQL NULL; NULL and ++*oom when out of
 * memory (callers check *oom once per row). */
char *spg_gs(const PGresult *r, int row, int col, int *oom);
void spg_rollback(PGconn *c);
/* Take a connection for this thread; -1 with the error set when none can be
 * made (server down, or in back-off). */
int spg_acquire(struct pg *p);
void spg_release(struct pg *p, int i);   /* rolls back an open transaction */
/* One-shot command with up to two integer parameters (acquires itself). */
int spg_simple(struct pg *p, const char *sql, int n, int64_t a, int64_t b, const char *what,
               int64_t *affected);

/* ---- ops (the store_ops members, see store_internal.h) ------------------ */

/* store_pg_accounts.c */
int pg_account_list(void *be, struct store_account **out, size_t *n);
int pg_account_get(void *be, int64_t id, struct store_account *out);
int pg_account_insert(void *be, struct store_account *a);
int pg_account_update(void *be, const struct store_account *a);
int pg_account_delete(void *be, int64_t id);
int pg_account_upsert_many(void *be, struct store_account *a, size_t n, int *results,
                           bool *created);
int pg_account_set_secrets(void *be, int64_t id, const char *old_scs, const char *old_hcs,
                           const char *old_proxy, const char *new_scs, const char *new_hcs,
                           const char *new_proxy);
/* store_pg_log.c */
int pg_apply(void *be, const struct store_rec *recs, size_t n,
             const struct store_stat_delta *d, size_t nd, int *results);
int pg_reqlog_query(void *be, const struct store_reqlog_filter *f, struct store_reqlog **out,
                    size_t *n);
int pg_reqlog_purge(void *be, int64_t before, size_t batch, int64_t *deleted);
int pg_stats_prune(void *be, int64_t before_hour);
int pg_stats_query(void *be, const char *sql, int64_t since_hour, struct store_stat_row **out,
                   size_t *n);
/* store_pg_kv.c */
int pg_session_get(void *be, const char *conv_key, struct store_session *out);
int pg_session_purge(void *be, int64_t older_than);
int pg_kv_get(void *be, const char *key, char **value);
int pg_kv_put(void *be, const char *key, const char *value, int64_t now);
/* store_pg_query.c */
int pg_query(void *be, const char *sql, const char *const *params, int nparams, struct store_rows *rows);

#endif
