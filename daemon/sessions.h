/* sessions.h -- conversation -> (account, upstream session, model) map.
 *
 * Keys are hex SHA-256 conversation keys (core/flatten.h exch_conv_key).  Entries
 * expire after SESSION_TTL seconds without use.  sessions_take() removes
 * the entry it returns (a conversation turn consumes its key and the
 * finished turn stores the next one), so a regenerated turn starts a fresh
 * upstream session instead of repeating a question into the old one.
 * Thread-safe (one mutex).  Strings returned are malloc'd copies owned by
 * the caller.  With a store attached, puts are persisted through storeq
 * and misses fall back to the store (so mappings survive a restart).
 * sessions_init / sessions_shutdown also start and stop the cookie saver
 * (credsave.h), which needs the same store handle.
 */
#ifndef SESSIONS_H
#define SESSIONS_H

#include <stddef.h>
#include <stdint.h>

struct storeq;
struct store;

void sessions_init(struct store *st, struct storeq *q);
void sessions_shutdown(void);
/* 0 found (out params filled), -1 none. */
int sessions_take(const char *key, int64_t *account_id, char **session, char **model);
void sessions_put(const char *key, int64_t account_id, const char *session, const char *model);
/* Forget every mapping that points at an account (deleted account). */
void sessions_drop_account(int64_t account_id);
size_t sessions_count(void);

#endif
