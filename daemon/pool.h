/* pool.h -- the in-memory account pool: selection, failover state, counters.
 *
 * The pool is the source of truth at run time; the store only persists it
 * (through storeq, never on the request path).  One mutex guards the list
 * and every account's mutable fields; selection is O(accounts) under it.
 *
 * Ownership: accounts are refcounted.  pool_acquire() and pool_get() return
 * a reference the caller must drop with pool_release() / pool_put().  An
 * account removed from the pool stays valid for holders until the last
 * reference goes.  Credentials may change under an admin update; readers
 * take a consistent copy with pool_creds() (owned by the caller, free with
 * pool_creds_free()).  `upstream_*` fields belong to daemon/upstream/ (oxsrf.c's auth_mu).
 *
 * State rules (each with a visible status, reason and until-time):
 *   rate limit (429 / RESOURCE_EXHAUSTED, quota) -> cooldown, COOLDOWN_429
 *     doubled per consecutive 429 up to COOLDOWN_429_MAX; ends by itself;
 *   service busy (429 LLM_OVERLOADED) -> a short cooldown,
 *     min(COOLDOWN_OVERLOADED, COOLDOWN_429), not escalating;
 *   both rate-limit kinds are kept per kind of work (text, image, video:
 *     pool_report_kind).  A text rate limit is the account's visible
 *     `cooldown` status; image and video rate limits only keep the account
 *     out of work of their kind (kcool[]); an account cooling for text
 *     still serves image/video work and the other way round;
 *   cookie expired (getoxsrf 401 / refreshcookies) -> expired until the
 *     cookies are updated or an admin enables it;
 *   403 -> disabled with the reason until an admin enables it;
 *   network error / 5xx -> cooldown COOLDOWN_ERROR;
 *   thoughts but no answer -> no penalty.
 * Success resets the consecutive-failure count.
 */
#ifndef POOL_H
#define POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gg_buf.h"
#include "jwt.h"

struct store_account;
struct cJSON;

enum acct_status { ST_ACTIVE = 0, ST_COOLDOWN, ST_EXPIRED, ST_DISABLED };

enum outcome {
    OUT_OK = 0,
    OUT_RATE_LIMIT,     /* 429 */
    OUT_EXPIRED,        /* cookies rejected */
    OUT_FORBIDDEN,      /* 403 */
    OUT_AUTH,           /* 401 on an API call after a JWT refresh */
    OUT_NETWORK,        /* connect/read failure, timeout */
    OUT_SERVER,         /* 5xx */
    OUT_EMPTY,          /* thoughts only: retry elsewhere, no penalty */
    OUT_CLIENT,         /* 4xx caused by the request itself: no penalty */
    OUT_OVERLOADED,     /* 429 LLM_OVERLOADED: service busy, short cooldown */
};

/* Kinds of work with separate rate-limit cooldowns (peers keep text, image
 * and video quotas apart). */
enum work_kind { WK_TEXT = 0, WK_IMAGE, WK_VIDEO, WK_N };
const char *pool_kind_name(enum work_kind k);

struct kind_cool {
    int64_t until_ms;           /* rate-limited for this kind until (0 = not) */
    int64_t fail_count;         /* consecutive quota 429s of this kind */
    char reason[96];
};

#define ACCT_LAST_ERRORS 10

struct account {
    int64_t id;                 /* 0 = the environment account */
    bool from_env;
    /* below: guarded by the pool lock */
    int refs;
    bool removed;
    char *name, *secure_c_ses, *host_c_oses, *csesidx, *config_id, *proxy, *note;
    uint64_t cred_gen;          /* bumped when cookies/csesidx change */
    bool is_active;
    enum acct_status status;
    char reason[160];
    int64_t until_ms;
    int64_t fail_count;
    int64_t expires_at, last_used_at, created_at, updated_at;
    int64_t requests_total, errors_total, requests_today, errors_today;
    int64_t today;              /* day number of the *_today counters */
    int inflight;
    int lease_slots[64];        /* cross-instance slots held (cluster mode) */
    int n_lease;
    struct { int64_t at; char kind[16]; char msg[120]; } last_errors[ACCT_LAST_ERRORS];
    int n_errors;
    struct kind_cool kcool[WK_N];   /* per-kind rate limits ([WK_TEXT] mirrors status) */
    bool cool_is_text_rl;       /* the cooldown status is a text rate limit */
    int64_t last_signin_ms;     /* last successful getoxsrf (0 = none yet) */
    int64_t refresh_count;      /* cookie refreshes (refreshcookies) */
    /* upstream thread only: the signing key from getoxsrf; a fresh JWT is
     * signed from it for every API call while it is still valid */
    char upstream_key[256];     /* xsrfToken */
    char upstream_kid[128];     /* keyId */
    char upstream_csesidx[32];
    int64_t upstream_key_exp_ms;    /* local wall clock; 0 = no key */
    int64_t upstream_key_life_ms;
    uint64_t upstream_jwt_gen;
    int64_t upstream_probe_ms;      /* expiry watch: last probe started */
    int upstream_refresh_hops;      /* refreshcookies hops in this sign-in */
    void *upstream_waiters;     /* calls waiting for getoxsrf */
    bool upstream_oxsrf_busy;
};

struct creds {
    char *secure_c_ses, *host_c_oses, *csesidx, *config_id, *proxy, *name;
    uint64_t gen;
};

typedef void (*pool_change_cb)(const struct account *a, bool state_changed);
/* A consistent copy of an account's mutable state (takes the pool lock):
 * what a change callback persists, read safely while other threads pick or
 * report on the same account. */
struct pool_state {
    enum acct_status status;
    char reason[160];
    int64_t until_ms, fail_count, last_used_at;
};
void pool_state_of(const struct account *a, struct pool_state *out);

void pool_init(void);
void pool_shutdown(void);
void pool_set_change_cb(pool_change_cb cb);  /* called under no lock */

/* Add from a store row (id > 0) or the environment (id 0). Returns 0/-1. */
int pool_add(const struct store_account *row, bool from_env);
/* Replace the editable fields of account id from row (admin update):
 * name, cookies, csesidx, config_id, proxy, note.  New cookies clear an
 * `expired` state.  Runtime state and counters are kept.  -1: unknown id,
 * or out of memory (the account is then unchanged). */
int pool_update(const struct store_account *row);
/* Fill the runtime fields of row (status, reason, until, counters) from the
 * pool's account, for persisting.  Returns -1 when unknown or out of
 * memory; the row is then left as it was. */
int pool_fill_row(int64_t id, struct store_account *row);
int pool_remove(int64_t id);
/* Apply a row read back from a shared store (another instance changed it):
 * credentials, editable fields, the admin switch and the state.  Adds the
 * account when unknown.  Local counters are kept.  Returns 1 when something
 * visible changed, 0 when not, -1 on error. */
int pool_sync_row(const struct store_account *row);
/* Remove store-backed accounts whose id is not in ids[0..n) (reconcile). */
int pool_retain(const int64_t *ids, size_t n);
/* Lease hooks for cross-instance concurrency limits (cluster.c).  take
 * returns a slot >= 0, -1 when every slot is held elsewhere, -2 when leases
 * are unavailable (then only the local limit applies). */
typedef int (*pool_lease_take_fn)(int64_t account_id, int limit);
typedef void (*pool_lease_release_fn)(int64_t account_id, int slot);
void pool_set_lease_hooks(pool_lease_take_fn take, pool_lease_release_fn release);
struct account *pool_get(int64_t id);       /* +ref or NULL */
void pool_put(struct account *a);           /* -ref */

/* Choose an account not in exclude[0..nex).  NULL when none can serve:
 * *retry_after_s = seconds to the soonest recovery (0 = unknown) and
 * *all_rate_limited tells 429 from 503. */
struct account *pool_acquire(const int64_t *exclude, int nex, int *retry_after_s,
                             bool *all_rate_limited);
/* The same for a kind of work: accounts rate-limited for `kind` are skipped
 * (pool_acquire is pool_acquire_kind(..., WK_TEXT)). */
struct account *pool_acquire_kind(const int64_t *exclude, int nex, enum work_kind kind,
                                  int *retry_after_s, bool *all_rate_limited);
void pool_release(struct account *a);
/* Seconds until the soonest cooldown ends (0 = none) and whether every
 * cooling account cools because of rate limits; selects nothing. */
void pool_recovery(int *retry_after_s, bool *all_rate_limited);
/* Acquire a specific account (a conversation's, or an admin test).  With
 * `any_state` it is returned whatever its status (tests probe sick
 * accounts); otherwise NULL unless it is usable now. */
struct account *pool_acquire_id(int64_t id, bool any_state);
struct account *pool_acquire_id_kind(int64_t id, bool any_state, enum work_kind kind);
/* pool_recovery for a kind of work. */
void pool_recovery_kind(enum work_kind kind, int *retry_after_s, bool *all_rate_limited);
void pool_ref(struct account *a);           /* +ref on an account already held */
/* Record the outcome of an upstream exchange on account a. */
void pool_report(struct account *a, enum outcome o, const char *detail);
/* The same for a kind of work (rate limits are kept per kind). */
void pool_report_kind(struct account *a, enum work_kind kind, enum outcome o, const char *detail);
/* A successful getoxsrf (sign-in) on a: its time is kept and shown. */
void pool_signed_in(struct account *a);
/* getoxsrf's refreshcookies hop gave new cookies: replace them (NULL
 * oses = keep), bump the credential generation, count the refresh, note
 * "cookies refreshed" in the account's history and tell the change
 * callback (cookies_changed = true).  0, or -1 on allocation failure. */
int pool_refresh_cookies(struct account *a, const char *ses, const char *oses);
/* Start-up: cookies refreshed in an earlier run (no count, no history). */
int pool_restore_cookies(struct account *a, const char *ses, const char *oses);
/* Called with the new cookies after pool_refresh_cookies (no lock held);
 * the daemon persists them (store, encrypted at rest). */
typedef void (*pool_cookie_cb)(const struct account *a, const char *ses, const char *oses);
void pool_set_cookie_cb(pool_cookie_cb cb);
/* Accounts idle (not used, not probed) for at least idle_ms and not
 * disabled: up to max ids into out; returns the count (expiry watch). */
size_t pool_idle_accounts(int64_t idle_ms, int64_t *out, size_t max);
/* Prometheus text for /metrics: per account the last sign-in time
 * (gemgate_account_last_signin_timestamp_seconds) and the refresh count
 * (gemgate_account_cookie_refreshes_total).  Appends to b (capped). */
void pool_signin_metrics(struct gg_buf *b);

/* Admin actions; return 0, or -1 when the id is unknown. */
int pool_enable(int64_t id);
int pool_disable(int64_t id, const char *reason);
int pool_reset(int64_t id);

int pool_creds(struct account *a, struct creds *out);
void pool_creds_free(struct creds *c);

/* JSON for the admin API (secrets masked). */
struct cJSON *pool_account_json(const struct account *a);   /* takes the lock */
struct cJSON *pool_list_json(const char *status_filter, const char *q);
void pool_counts(int *total, int *active, int *cooldown, int *expired, int *disabled);
const char *pool_status_name(enum acct_status s);
int pool_size(void);

#endif
