/* store.h -- the persistent store: one interface, two backends.
 *
 * Backends: SQLite (embedded default, DATA_DIR/gemgate.db, WAL, busy
 * timeout) and PostgreSQL (DATABASE_URL postgres:// or postgresql://, libpq,
 * parameterised queries only, a small connection pool, reconnect with
 * back-off).  `sqlite:///abs/path.db` selects SQLite explicitly.
 *
 * Threading: every function here may be called from any thread; the store
 * serialises or pools connections internally.  The request path never calls
 * the store directly: it goes through the bounded async queue (storeq.h).
 *
 * Ownership: functions that fill a struct store_account / store_session /
 * store_reqlog allocate its strings; release with the matching *_clear().
 * Lists are malloc'd arrays released with the matching *_list_free().
 *
 * Errors: functions return STORE_OK (0), STORE_NOTFOUND, STORE_CONFLICT
 * (unique key clash), or STORE_ERR (I/O or backend failure, message in
 * store_last_error(), thread-local).  Times are Unix milliseconds, 0 = unset.
 *
 * Secrets at rest: when a secret key is configured (store_open's
 * secret_key), secure_c_ses and host_c_oses are written AES-256-GCM
 * encrypted ("enc:v1:<kid>:<base64>") and decrypted on read; callers always
 * see plaintext.
 */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { STORE_OK = 0, STORE_NOTFOUND = 1, STORE_CONFLICT = 2, STORE_ERR = -1 };

struct store;

struct store_account {
    int64_t id;
    char *name;
    char *secure_c_ses;      /* plaintext in memory */
    char *host_c_oses;       /* may be NULL */
    char *csesidx;
    char *config_id;
    bool is_active;          /* admin switch (seed column) */
    char *status;            /* "active" | "cooldown" | "expired" | "disabled" */
    char *reason;            /* why, may be NULL */
    int64_t cooldown_until;  /* ms, 0 = none */
    int64_t fail_count;      /* consecutive failures (back-off step) */
    char *proxy;             /* per-account outbound proxy, may be NULL */
    char *note;              /* may be NULL */
    int64_t expires_at;      /* ms, 0 = unknown */
    int64_t last_used_at;
    int64_t created_at;
    int64_t updated_at;
    int64_t requests_total;
    int64_t errors_total;
};

struct store_session {            /* a conversation -> upstream session map */
    char *conv_key;               /* hex digest chosen by the caller */
    int64_t account_id;
    char *session_name;           /* upstream session name */
    char *model;                  /* the model the conversation started with */
    int64_t turns;
    int64_t updated_at;
};

struct store_reqlog {
    char *request_id;
    int64_t ts;                   /* request start, ms */
    char *model;
    int64_t account_id;           /* 0 = none */
    int status;                   /* HTTP status sent to the client */
    char *error_kind;             /* NULL on success, e.g. "rate_limit", "auth", "upstream", "truncated", "client_abort" */
    int64_t latency_ms;
    int64_t ttft_ms;              /* -1 = no token */
    int64_t bytes_out;
    int64_t prompt_tokens;
    int64_t completion_tokens;
    bool stream;
    char *dialect;                /* client dialect: "openai", "anthropic", "responses", "gemini",
                                   * "images"; NULL or "" is written as "openai" */
    int64_t tool_calls;           /* tool calls in the answer (0 = none) */
};

struct store_reqlog_filter {
    int64_t since;                /* ms, 0 = any */
    int64_t account_id;           /* 0 = any */
    const char *model;            /* NULL = any */
    const char *dialect;          /* NULL = any; exact match */
    int status_min, status_max;   /* 0,0 = any */
    size_t limit;                 /* newest first; 0 = 100 */
};

/* Aggregated statistics, kept in an hourly table that retention never
 * deletes (it is pruned after 400 days). */
#define STORE_HIST_BUCKETS 24     /* latency buckets, upper bounds in store.c */
struct store_stat_row {
    char *model;                  /* NULL when grouped by account only */
    int64_t account_id;           /* 0 when grouped by model only */
    int64_t requests;
    int64_t errors;
    int64_t err_rate_limit, err_auth, err_upstream, err_client;
    int64_t prompt_tokens, completion_tokens;
    int64_t lat_hist[STORE_HIST_BUCKETS];
    int64_t ttft_hist[STORE_HIST_BUCKETS];
};
extern const int64_t store_hist_bounds_ms[STORE_HIST_BUCKETS]; /* last = INT64_MAX */
/* Percentile (0..100) from a histogram; returns the bucket upper bound, or
 * -1 when empty. */
int64_t store_hist_percentile(const int64_t *hist, double pct);

/* Open by URL: NULL/"" = SQLite in data_dir; "sqlite:///path"; "postgres://..."
 * Applies migrations from the compiled-in sql/ files.  secret_key may be NULL
 * (no encryption); old_keys is a comma list of previous keys (decrypt only).
 * Returns NULL on failure with a message in err. */
struct store *store_open(const char *url, const char *data_dir, const char *secret_key,
                         const char *old_keys, char *err, size_t errlen);
void store_close(struct store *s);
const char *store_backend_name(const struct store *s);   /* "sqlite" | "postgresql" */
const char *store_last_error(void);
int store_ping(struct store *s);                          /* STORE_OK if reachable */
int store_schema_version(struct store *s);

/* Accounts */
int store_account_list(struct store *s, struct store_account **out, size_t *n);
int store_account_get(struct store *s, int64_t id, struct store_account *out);
int store_account_insert(struct store *s, struct store_account *a);       /* sets id, created_at, updated_at */
int store_account_update(struct store *s, const struct store_account *a); /* all columns by id; sets updated_at */
int store_account_delete(struct store *s, int64_t id);
/* Idempotent import: insert, or update the row with the same
 * (csesidx, config_id).  *created = true when inserted.  Sets a->id. */
int store_account_upsert(struct store *s, struct store_account *a, bool *created);
/* Many upserts in one transaction (import); results[i] = STORE_OK or error,
 * created[i] as above.  Fast: 10,000 rows in well under a second on SQLite. */
int store_account_upsert_many(struct store *s, struct store_account *a, size_t n,
                              int *results, bool *created);
int store_account_set_state(struct store *s, int64_t id, const char *status, const char *reason,
                            int64_t cooldown_until, int64_t fail_count);
int store_account_touch(struct store *s, int64_t id, int64_t last_used_at,
                        int64_t req_delta, int64_t err_delta);
void store_account_clear(struct store_account *a);
void store_account_list_free(struct store_account *a, size_t n);

/* Conversation sessions */
int store_session_put(struct store *s, const struct store_session *ss);   /* upsert by conv_key */
int store_session_get(struct store *s, const char *conv_key, struct store_session *out);
int store_session_delete(struct store *s, const char *conv_key);
int store_session_purge(struct store *s, int64_t older_than);             /* updated_at < older_than */
void store_session_clear(struct store_session *ss);

/* Request log + aggregates (one call updates both, in one transaction) */
int store_reqlog_insert_batch(struct store *s, const struct store_reqlog *r, size_t n);
int store_reqlog_query(struct store *s, const struct store_reqlog_filter *f,
                       struct store_reqlog **out, size_t *n);
/* Delete request-log rows older than `before`, at most `batch` rows per
 * statement, looping until done; *deleted gets the count. */
int store_reqlog_purge(struct store *s, int64_t before, size_t batch, int64_t *deleted);
void store_reqlog_list_free(struct store_reqlog *r, size_t n);
/* Aggregates since `since` (ms), grouped by "model", "account" or "model,account". */
int store_stats_query(struct store *s, int64_t since, const char *group_by,
                      struct store_stat_row **out, size_t *n);
void store_stats_free(struct store_stat_row *r, size_t n);

/* Small settings table (e.g. the hashed generated admin key). */
int store_kv_get(struct store *s, const char *key, char **value);         /* malloc'd */
int store_kv_put(struct store *s, const char *key, const char *value);

/* Re-encrypt every account's secrets with the current key (rotation).
 * *count = rows rewritten. */
int store_reencrypt(struct store *s, int64_t *count);

#endif
