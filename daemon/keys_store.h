/* keys_store.h -- persistence of client keys (keys.h), their per-day usage
 * and account tags (acct_tags.h) in the store (tables client_keys,
 * key_usage, gemini_accounts.tags; migrations sql/{sqlite,postgres}/NNN_client_keys.sql).
 *
 * keys_store_start() loads the keys, today's / this month's usage totals
 * and the account tags, and installs the keys hooks: a new key is inserted
 * (the store assigns its id), an edit or removal is written at once (admin
 * thread), and every finished request goes through storeq as one key_usage
 * upsert-add (batched with the request log, never on the request path).
 *
 * Cluster (PostgreSQL): a thread re-reads every KEYS_SYNC_MS the key rows
 * (new keys, edits, disable, delete made by other instances), the account
 * tags and the day/month usage sums, and merges them (keys_merge_usage:
 * counters rise to the cluster totals).  It also writes this instance's
 * rolling-minute requests / tokens and requests in flight per key into
 * key_rates and hands each key the sum of the other instances' rows
 * (keys_set_remote), so rpm, tpm and max_concurrent count the cluster.
 * Tolerance: a change made on another instance applies here within
 * KEYS_SYNC_MS; a limit can be exceeded cluster-wide by what the other
 * instances admit (rates, concurrency) or finish (quotas, plus the storeq
 * window of 200 ms) within one sync period -- on top of the requests in
 * flight.  With SQLite (one instance) the totals are read once at start and
 * everything else is exact.
 *
 * Thread-safety: all functions may be called from any thread.  Failure:
 * 0 / -1 with the reason logged (never a secret); nothing aborts.
 */
#ifndef KEYS_STORE_H
#define KEYS_STORE_H

#include <stddef.h>
#include <stdint.h>

#define KEYS_SYNC_MS 2000

struct store;
struct storeq;

struct key_day_usage {
    char day[11];                /* "YYYY-MM-DD" UTC */
    char model[128];
    int64_t requests, errors, tokens_in, tokens_out;
};

/* Load and hook up; `cluster` starts the sync thread (shared store). */
int keys_store_start(struct store *st, struct storeq *q, int cluster);
void keys_store_stop(void);
/* Bracket a keys_create / keys_update / keys_delete (admin): a sync never
 * interleaves with it, so a local edit cannot be undone by a sync that read
 * the rows just before it was written. */
void keys_store_begin(void);
void keys_store_end(void);
/* One sync now (the thread's work; also used at start). */
int keys_store_sync(void);
/* Usage of key id over the last `days` UTC days (today included), newest
 * first; pending usage is flushed first.  *out malloc'd (free()). */
int keys_store_usage(int64_t id, int days, struct key_day_usage **out, size_t *n);
/* Write account id's (normalised) tags and apply them in memory. */
int keys_store_set_account_tags(int64_t id, const char *tags);

#endif
