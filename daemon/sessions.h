/* sessions.h -- conversation -> (account, upstream session, model) map.
 *
 * Keys are hex SHA-256 conversation keys (core/flatten.h exch_conv_key).  Entries
 * expire after SESSION_TTL seconds without use.  sessions_take() removes
 * the entry it returns (a conversation turn consumes its key and the
 * finished turn stores the next one), so a regenerated turn starts a fresh
 * upstream session instead of repeating a question into the old one.
 * Thread-safe (one mutex, O(1) per call).  Strings returned are malloc'd
 * copies owned by the caller.  With a store attached, puts are persisted
 * through storeq and misses fall back to the store (so mappings survive a
 * restart and an eviction from memory); the environment account (id 0)
 * is no store row, so its mappings live in memory only.
 *
 * Memory is a bounded LRU cache of SESSION_CACHE_MAX entries (read at first
 * use; 0 = the store alone): a put into a full cache evicts the least
 * recently stored entry, expired entries leave from the LRU tail on each
 * put and on sessions_expire().  Each entry is one SESS_SLOT-byte slot of a
 * dedicated mapping (key, session and model inline: at most SESS_SLOT - 40
 * bytes with their terminators; longer ones are kept by the store only),
 * so the cache costs at most SESSION_CACHE_MAX * SESS_SLOT bytes and never
 * pins malloc's arenas.
 * sessions_init / sessions_shutdown also start and stop the cookie saver
 * (credsave.h), which needs the same store handle.
 */
#ifndef SESSIONS_H
#define SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#define SESS_SLOT 256
#define SESS_CACHE_LIMIT 4000000 /* most entries SESSION_CACHE_MAX may ask for */

struct storeq;
struct store;

void sessions_init(struct store *st, struct storeq *q);
void sessions_shutdown(void);
/* 0 found (out params filled), -1 none. */
int sessions_take(const char *key, int64_t *account_id, char **session, char **model);
void sessions_put(const char *key, int64_t account_id, const char *session, const char *model);
/* Forget every mapping that points at an account (deleted account). */
void sessions_drop_account(int64_t account_id);
/* Drop expired entries now (the daemon calls it once a second). */
void sessions_expire(void);
size_t sessions_count(void);    /* entries in memory */
size_t sessions_capacity(void); /* the cache's cap, 0 before first use */

#endif
