/* store_sqlite_internal.h -- what the parts of the SQLite backend share.
 * Private to store_sqlite*.c; nothing here is part of the store API.
 *
 * The backend is one connection behind one mutex (see store_sqlite.c) and is
 * split by the tables it serves:
 *   store_sqlite.c           open, migrations, file modes, the statement
 *                            cache and helpers below, ping, the ops table
 *   store_sqlite_accounts.c  gemini_accounts: list/get/insert/update/delete,
 *                            upsert (import), secrets compare-and-set
 *   store_sqlite_log.c       the batched write (apply: touch/state/session/
 *                            request-log records + stats_hourly upserts),
 *                            request-log query and purge, stats query/prune
 *   store_sqlite_kv.c        conv_sessions reads and purge, settings (kv)
 *
 * Ownership: struct sq is owned by store_sqlite.c (sq_open/sq_close); the
 * parts only borrow it through the void *be of their op.  Statements from
 * sq_stmt() stay owned by the cache: release them with sq_done(), never
 * finalize them.  sq_col_str() returns a malloc'd copy (NULL for SQL NULL;
 * out of memory is counted in its *oom and the op fails with STORE_ERR).
 *
 * Failure contract: like store_internal.h -- STORE_OK / STORE_NOTFOUND /
 * STORE_CONFLICT / STORE_ERR, and store_set_error() called (no secrets)
 * before STORE_ERR is returned.  Helpers marked "mutex held" must be called
 * with q->mu locked; ops and sq_delete_before() take it themselves.
 */
#ifndef STORE_SQLITE_INTERNAL_H
#define STORE_SQLITE_INTERNAL_H

#include <pthread.h>

#include <sqlite3.h>

#include "store_internal.h"

/* Prepared statements, cached per connection (sql_text in store_sqlite.c). */
enum {
    Q_ACC_LIST, Q_ACC_GET, Q_ACC_INSERT, Q_ACC_UPDATE, Q_ACC_DELETE, Q_ACC_FIND,
    Q_ACC_UPSERT_UPD, Q_ACC_SECRETS, Q_TOUCH, Q_STATE, Q_SESS_PUT, Q_SESS_GET, Q_SESS_DEL,
    Q_SESS_PURGE, Q_LOG_INSERT, Q_LOG_QUERY, Q_LOG_PURGE, Q_STATS_PRUNE, Q_KV_GET, Q_KV_PUT,
    Q_STATS_UPSERT, Q_KEY_USAGE, Q_COUNT
};

struct sq {
    sqlite3 *db;
    pthread_mutex_t mu;
    char *stats_sql;
    sqlite3_stmt *st[Q_COUNT];
};

/* ---- helpers (store_sqlite.c; mutex held) ------------------------------- */

int sq_fail(struct sq *q, const char *what);          /* sets the error, returns STORE_ERR */
sqlite3_stmt *sq_stmt(struct sq *q, int id);          /* cached, reset; NULL on error */
void sq_done(sqlite3_stmt *st);                       /* reset + clear bindings; NULL ok */
void sq_bind_str(sqlite3_stmt *st, int i, const char *v);   /* NULL binds NULL */
void sq_bind_ms(sqlite3_stmt *st, int i, int64_t v);        /* 0 binds NULL */
/* Copy of a text column: NULL for SQL NULL; NULL and ++*oom when out of
 * memory (callers check *oom once per row: a NULL must not stand in for a
 * value that exists). */
char *sq_col_str(sqlite3_stmt *st, int i, int *oom);
int sq_exec(struct sq *q, const char *sql);
/* Run a statement that returns no rows.  STORE_CONFLICT on a unique clash. */
int sq_step_done(struct sq *q, sqlite3_stmt *st, const char *what);
/* DELETE statement `id` with one int64 parameter (and a LIMIT when
 * limit > 0); takes the mutex itself.  *changes may be NULL. */
int sq_delete_before(struct sq *q, int id, int64_t before, int64_t limit, int64_t *changes);

/* ---- ops (the store_ops members, see store_internal.h) ------------------ */

/* store_sqlite_accounts.c */
int sq_account_list(void *be, struct store_account **out, size_t *n);
int sq_account_get(void *be, int64_t id, struct store_account *out);
int sq_account_insert(void *be, struct store_account *a);
int sq_account_update(void *be, const struct store_account *a);
int sq_account_delete(void *be, int64_t id);
int sq_account_upsert_many(void *be, struct store_account *a, size_t n, int *results,
                           bool *created);
int sq_account_set_secrets(void *be, int64_t id, const char *old_scs, const char *old_hcs,
                           const char *old_proxy, const char *new_scs, const char *new_hcs,
                           const char *new_proxy);
/* store_sqlite_log.c */
int sq_apply(void *be, const struct store_rec *recs, size_t n,
             const struct store_stat_delta *d, size_t nd, int *results);
int sq_reqlog_query(void *be, const struct store_reqlog_filter *f, struct store_reqlog **out,
                    size_t *n);
int sq_reqlog_purge(void *be, int64_t before, size_t batch, int64_t *deleted);
int sq_stats_prune(void *be, int64_t before_hour);
int sq_stats_query(void *be, const char *sql, int64_t since_hour, struct store_stat_row **out,
                   size_t *n);
/* store_sqlite_kv.c */
int sq_session_get(void *be, const char *conv_key, struct store_session *out);
int sq_session_purge(void *be, int64_t older_than);
int sq_kv_get(void *be, const char *key, char **value);
int sq_kv_put(void *be, const char *key, const char *value, int64_t now);
/* store_sqlite_query.c */
int sq_query(void *be, const char *sql, const char *const *params, int nparams, struct store_rows *rows);

#endif
