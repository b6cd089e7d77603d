/* keys.h -- client keys: who may call the gateway, and how much.
 *
 * A client key is a random secret (`gk-` + 40 hex) shown once at creation;
 * the table keeps only its SHA-256 and a short visible prefix.  Each key
 * carries limits: allowed models (names or `*` patterns), requests and
 * tokens per minute, token quotas per UTC day and month (estimated prompt +
 * completion tokens, counted when a request ends), concurrent requests, and
 * an account group (a tag: the key only uses accounts carrying it).
 * Keys from API_KEY are not in this table: they are unrestricted root keys.
 *
 * Admission (keys_admit) happens before any upstream work and is one
 * critical section per key: the check and the count cannot be split by a
 * parallel request.  A quota is checked against what was used by finished
 * requests, so it can be overspent by at most the requests already in
 * flight when it ran out (bounded by max_concurrent when that is set).
 *
 * Persistence goes through hooks (keys_set_hooks): the table is loaded from
 * and saved to the store, and usage is handed over per finished request for
 * the per-day aggregates.  With a shared store, other instances' usage
 * arrives through keys_merge_usage() (cluster tolerance: one sync period).
 *
 * Thread-safety: every function may be called from any thread.  Failure:
 * functions returning int give 0 or -1 (bad input, no memory, unknown id);
 * nothing here aborts.
 */
#ifndef KEYS_H
#define KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEY_SECRET_LEN 43        /* "gk-" + 40 hex */
#define KEY_PREFIX_LEN 10        /* "gk-" + 7 hex: shown in lists and logs */

struct key_limits {
    char models[512];            /* comma list of ids or patterns with '*'; "" = every model */
    int64_t rpm, tpm;            /* per rolling minute; 0 = unlimited */
    int64_t tokens_day, tokens_month; /* per UTC day / month; 0 = unlimited */
    int64_t max_concurrent;      /* requests at once; 0 = unlimited */
    char group[64];              /* account tag; "" = any account */
};

struct key_info {
    int64_t id;
    char name[64];
    char note[256];
    char prefix[KEY_PREFIX_LEN + 1];
    char hash[65];               /* SHA-256 hex of the secret */
    int64_t created_at, expires_at; /* Unix ms; expires_at 0 = never */
    bool enabled;
    struct key_limits lim;
};

struct key_usage_now {           /* what a key has used, as the gateway counts it */
    int64_t minute_requests, minute_tokens;   /* this instance, rolling minute */
    int64_t day_tokens, month_tokens;
    int64_t day_requests, day_errors;
    int inflight;
    /* the other instances (cluster), as of the last keys_set_remote; 0 when none */
    int64_t cluster_minute_requests, cluster_minute_tokens;
    int cluster_inflight;
    /* finished here since start (metrics) */
    int64_t total_requests, total_errors, total_in, total_out;
};

enum key_verdict {
    KEY_OK = 0,
    KEY_UNKNOWN,                 /* 401 */
    KEY_DISABLED,                /* 401 */
    KEY_EXPIRED,                 /* 401 */
    KEY_MODEL,                   /* 403 */
    KEY_RPM,                     /* 429 + Retry-After */
    KEY_TPM,                     /* 429 + Retry-After */
    KEY_DAY,                     /* 429: daily quota, resets at the next UTC midnight */
    KEY_MONTH,                   /* 429: monthly quota */
    KEY_CONCURRENCY,             /* 429 + Retry-After 1 */
};

struct key_denial {
    enum key_verdict verdict;
    int status;                  /* 401 / 403 / 429 */
    int retry_after;             /* seconds, 0 = none */
    char message[256];           /* says which limit, and when it resets */
};

/* What keys_admit() hands out and keys_finish() takes back. */
struct key_ticket {
    int64_t key_id;              /* 0 = no ticket (root key or no admission) */
    char name[64];
    char group[64];
};

struct key_hooks {
    /* store a new key and set k->id (the store's id); 0 or -1.  When set,
     * keys_create uses it instead of a local id and save. */
    int (*insert)(struct key_info *k);
    /* persist one key (insert or update); 0 or -1 */
    int (*save)(const struct key_info *k);
    int (*remove)(int64_t id);
    /* one finished request: per-day aggregate by key and model */
    void (*usage)(int64_t key_id, const char *day, const char *model, int64_t tokens_in,
                  int64_t tokens_out, bool error);
};

void keys_set_hooks(const struct key_hooks *h);
/* Replace the table with rows loaded from the store (start-up, cluster sync). */
int keys_load(const struct key_info *rows, size_t n);

/* Create a key; *out gets the stored record, secret[KEY_SECRET_LEN+1] the
 * secret (the only time it exists outside the client).  -1 on a bad name
 * or limits (err says which). */
int keys_create(const char *name, const char *note, int64_t expires_at, const struct key_limits *lim,
                struct key_info *out, char *secret, char *err, size_t errlen);
int keys_update(int64_t id, const char *name, const char *note, const int64_t *expires_at,
                const bool *enabled, const struct key_limits *lim, char *err, size_t errlen);
int keys_delete(int64_t id);
int keys_get(int64_t id, struct key_info *out, struct key_usage_now *use);
/* A snapshot of every key (caller frees *out). */
int keys_list(struct key_info **out, struct key_usage_now **use, size_t *n);
size_t keys_count(void);

/* Is `secret` one of our client keys (shape and hash)?  Constant work per call. */
bool keys_is_client_key(const char *secret);
/* Admit one request for `model` (the name the client sent; NULL = no model
 * yet, checked later with keys_check_model).  KEY_OK fills *t. */
enum key_verdict keys_admit(const char *secret, const char *model, int64_t now_ms, struct key_ticket *t,
                            struct key_denial *d);
enum key_verdict keys_check_model(const struct key_ticket *t, const char *model, struct key_denial *d);
/* The request ended: count its tokens (prompt + completion estimates). */
void keys_finish(struct key_ticket *t, const char *model, int64_t tokens_in, int64_t tokens_out, bool error,
                 int64_t now_ms);
/* Totals of the current UTC day / month read from the store (all
 * instances' finished requests, as flushed): the key's counters rise to at
 * least these values (start-up and cluster sync).  Never lowers a counter,
 * so own requests not yet flushed are not lost. */
void keys_merge_usage(int64_t key_id, int64_t day_tokens, int64_t month_tokens, int64_t day_requests,
                      int64_t day_errors, int64_t now_ms);
/* What the other instances report for key_id right now (cluster sync):
 * requests and tokens in their rolling minute and requests in flight.
 * Until valid_until_ms, admission adds them to this instance's counts for
 * rpm, tpm and max_concurrent (the exact local checks stay). */
void keys_set_remote(int64_t key_id, int64_t minute_requests, int64_t minute_tokens, int inflight,
                     int64_t valid_until_ms);
/* Authentication only (no counting): unknown / disabled / expired, or
 * KEY_OK with *t filled (t->key_id set; never pass it to keys_finish). */
enum key_verdict keys_authenticate(const char *secret, int64_t now_ms, struct key_ticket *t, struct key_denial *d);
/* Does secret have the shape of a client key ("gk-" + 40 lowercase hex)? */
bool keys_shaped(const char *secret);

/* Does model match the comma list of names / '*' patterns ("" matches all)? */
bool keys_model_allowed(const char *list, const char *model);
/* Prometheus text for /metrics: requests, errors and tokens by key name
 * (never the secret), counted since start.  Nothing when there are no keys. */
struct gg_buf;
void keys_metrics(struct gg_buf *b);
void keys_free(void);

#endif
