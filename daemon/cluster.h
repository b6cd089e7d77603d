/* cluster.h -- several gemgated instances behaving as one gateway on a
 * shared PostgreSQL.
 *
 * With a postgres:// DATABASE_URL, cluster_start() starts one thread that
 * LISTENs on channel `gemgate_accounts` (published by a trigger, migration
 * 003) and applies every account change made by any instance to the local
 * pool within a second, plus a full reconciliation every
 * CLUSTER_RECONCILE seconds and after every reconnect.  It also provides
 * the pool's lease hooks: per-account concurrency slots held as
 * session-level advisory locks on a dedicated connection, so a crashed
 * instance's slots are freed by PostgreSQL itself.  Taking and releasing a
 * slot is one round trip each on an open connection (only when
 * ACCOUNT_MAX_CONCURRENCY > 0); connecting happens on the cluster thread,
 * never on the request path.
 *
 * When PostgreSQL is unreachable everything keeps working from memory:
 * leases report "unavailable" (the local limit applies), the listener
 * reconnects with back-off, and cluster_ok() turns false (/readyz).
 * With SQLite all of this is a no-op.  Thread-safe.
 */
#ifndef CLUSTER_H
#define CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

struct store;

/* 0 (also when disabled), or -1 (out of memory, no thread) with nothing
 * started and no lease hooks installed. */
int cluster_start(const char *database_url, struct store *st);
void cluster_stop(void);
bool cluster_enabled(void);
bool cluster_ok(void);

#endif
