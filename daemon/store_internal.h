/* store_internal.h -- what store.c shares with its backends and storeq.c.
 *
 * store.c is the front: it dispatches on the URL, encrypts and decrypts
 * account secrets, fills defaults, validates, aggregates request-log rows
 * into hourly statistics and keeps the thread-local error.  A backend
 * (store_sqlite.c, store_pg.c) only moves rows: it sees secrets exactly as
 * stored ("enc:v1:..." or plaintext) and exports one `struct store_ops`
 * (the Taler plugin idea).  Nothing here is part of the public API.
 *
 * Backend contract: every op takes the backend handle returned by open,
 * returns STORE_OK / STORE_NOTFOUND / STORE_CONFLICT / STORE_ERR like
 * store.h, and on STORE_ERR has called store_set_error() with a message that
 * contains no secret values and no passwords.  Ops are thread-safe.
 */
#ifndef STORE_INTERNAL_H
#define STORE_INTERNAL_H

#include "store.h"

/* One queued write (storeq) or single write (store.c), applied in a batch. */
enum store_rec_kind {
    STORE_REC_TOUCH,
    STORE_REC_STATE,
    STORE_REC_REQLOG,
    STORE_REC_SESSION,
    STORE_REC_SESSION_DEL,
    STORE_REC_KEY_USAGE         /* client key usage: upsert-add into key_usage */
};

struct store_rec {
    enum store_rec_kind kind;
    union {
        struct {
            int64_t account_id, last_used_at, req_delta, err_delta;
        } touch;
        struct {
            int64_t account_id;
            char *status, *reason;
            int64_t cooldown_until, fail_count, updated_at;
        } state;
        struct store_reqlog reqlog;
        struct store_session session;   /* SESSION_DEL uses conv_key only */
        struct {
            int64_t key_id;
            char *day, *model;          /* "YYYY-MM-DD" (UTC), model id */
            int64_t requests, errors, tokens_in, tokens_out;
        } key_usage;
    } u;
};
void store_rec_clear(struct store_rec *r);  /* frees the strings it owns */

/* Additive change to one stats_hourly row (hour, model, account_id). */
struct store_stat_delta {
    int64_t hour;                 /* ms, multiple of 3,600,000 */
    const char *model;            /* never NULL ("" = unknown) */
    int64_t account_id;
    int64_t requests, errors;
    int64_t err_rate_limit, err_auth, err_upstream, err_client;
    int64_t prompt_tokens, completion_tokens;
    int64_t lat_hist[STORE_HIST_BUCKETS];
    int64_t ttft_hist[STORE_HIST_BUCKETS];
};
#define STORE_STAT_NCOLS (11 + 2 * STORE_HIST_BUCKETS)   /* params of the upsert */

/* A compiled-in migration (generated from sql/ at build time). */
struct store_migration {
    int version;
    const char *name;
    const char *sql;
};
extern const struct store_migration store_sqlite_migrations[];
extern const size_t store_sqlite_nmigrations;
extern const struct store_migration store_pg_migrations[];
extern const size_t store_pg_nmigrations;

/* Text result of store_ops.query: cell[r * ncols + c], NULL = SQL NULL.
 * Released with store_rows_free(). */
struct store_rows {
    size_t nrows, ncols;
    char **cell;
};
void store_rows_free(struct store_rows *r);

struct store_ops {
    const char *name;   /* "sqlite" | "postgresql" */
    /* url is the full URL (NULL/"" or sqlite:///... for SQLite).  Creates
     * the schema.  Returns NULL with a message in err. */
    void *(*open)(const char *url, const char *data_dir, char *err, size_t errlen);
    void (*close)(void *be);
    int (*ping)(void *be);
    int (*schema_version)(void *be);

    int (*account_list)(void *be, struct store_account **out, size_t *n);
    int (*account_get)(void *be, int64_t id, struct store_account *out);
    /* created_at/updated_at are already set by the caller; sets a->id. */
    int (*account_insert)(void *be, struct store_account *a);
    int (*account_update)(void *be, const struct store_account *a);
    int (*account_delete)(void *be, int64_t id);
    /* One transaction.  Rows with results[i] != STORE_OK on entry are skipped
     * (already rejected by the caller).  Sets a[i].id and a[i].created_at
     * (the existing value on update), created[i].  Returns STORE_ERR and
     * rolls everything back on any backend failure. */
    int (*account_upsert_many)(void *be, struct store_account *a, size_t n,
                               int *results, bool *created);
    /* Compare-and-set of the three sealed columns (cookies and proxy;
     * rotation): only when they still hold old_*.  STORE_NOTFOUND when the
     * row changed meanwhile. */
    int (*account_set_secrets)(void *be, int64_t id, const char *old_scs, const char *old_hcs,
                               const char *old_proxy, const char *new_scs, const char *new_hcs,
                               const char *new_proxy);

    /* Apply recs and stat deltas in one transaction.  results (may be NULL)
     * gets STORE_OK or STORE_NOTFOUND per record (e.g. unknown account);
     * STORE_ERR return = nothing was written. */
    int (*apply)(void *be, const struct store_rec *recs, size_t n,
                 const struct store_stat_delta *deltas, size_t nd, int *results);

    int (*session_get)(void *be, const char *conv_key, struct store_session *out);
    int (*session_purge)(void *be, int64_t older_than);
    int (*reqlog_query)(void *be, const struct store_reqlog_filter *f,
                        struct store_reqlog **out, size_t *n);
    int (*reqlog_purge)(void *be, int64_t before, size_t batch, int64_t *deleted);
    int (*stats_prune)(void *be, int64_t before_hour);
    /* Run the stats SELECT built by store_sql_stats_query(); one parameter
     * (since hour, ms).  Columns: model (text or NULL), account_id, then the
     * STORE_STAT_NCOLS - 3 counters in struct order. */
    int (*stats_query)(void *be, const char *sql, int64_t since_hour,
                       struct store_stat_row **out, size_t *n);
    int (*kv_get)(void *be, const char *key, char **value);
    int (*kv_put)(void *be, const char *key, const char *value, int64_t now);
    /* One parameterised statement for modules that own their tables (client
     * keys: keys_store.c).  Placeholders are $1..$n in both backends; params
     * are text (NULL = SQL NULL), typed by the server / column affinity.
     * Rows (may be NULL) receive the result as text cells. */
    int (*query)(void *be, const char *sql, const char *const *params, int nparams,
                 struct store_rows *rows);
};

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;

struct secretbox;

/* A store: its backend and the secretbox of SECRET_KEY (store.c opens it,
 * store_accounts.c seals and opens account secrets with it). */
struct store {
    const struct store_ops *ops;
    void *be;
    struct secretbox *box;
};

/* Thread-local error message (printf-style).  Never pass secrets. */
void store_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* SQL shared by both backends, built once; `ph` is the placeholder prefix
 * ('?' for SQLite "?N", '$' for PostgreSQL "$N").  Return malloc'd text or
 * NULL when out of memory. */
char *store_sql_stats_upsert(char ph);
char *store_sql_stats_query(char ph, const char *group_by);  /* NULL for a bad group_by */

/* Copy a URL for messages with any password replaced by "***".  out must
 * hold at least 8 bytes; truncates. */
void store_mask_url(const char *url, char *out, size_t n);

/* Apply records (storeq's writer and the single-record API).  Aggregates the
 * REQLOG records into stat deltas.  results may be NULL. */
int store_apply(struct store *s, const struct store_rec *recs, size_t n, int *results);

#endif
