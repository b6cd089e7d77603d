/* storeq.h -- bounded asynchronous write queue in front of the store.
 *
 * The request path must never wait on the database.  It enqueues small
 * records (account touch, account state change, request-log row, session
 * mapping) which a single writer thread applies in batches (up to 500
 * records or 200 ms, whichever first), one transaction per batch.
 *
 * Bounded: at most `capacity` records wait.  When full, or while the store
 * is unreachable and the queue is full, new records are dropped and counted
 * (storeq_dropped()); memory never grows past the cap.  While the store is
 * down the writer retries with back-off and keeps what it holds, so
 * records queued during a short outage land after it.
 *
 * All functions are thread-safe.  storeq_put_* copy their arguments.
 * storeq_flush() blocks until everything queued before the call is written
 * or dropped (used at shutdown, with a deadline).
 */
#ifndef STOREQ_H
#define STOREQ_H

#include "store.h"

struct storeq;

struct storeq *storeq_start(struct store *s, size_t capacity);
void storeq_stop(struct storeq *q, int64_t deadline_ms);   /* flush (bounded), join, free */

void storeq_put_touch(struct storeq *q, int64_t account_id, int64_t last_used_at,
                      int64_t req_delta, int64_t err_delta);
void storeq_put_state(struct storeq *q, int64_t account_id, const char *status,
                      const char *reason, int64_t cooldown_until, int64_t fail_count);
void storeq_put_reqlog(struct storeq *q, const struct store_reqlog *r);
void storeq_put_session(struct storeq *q, const struct store_session *ss);
void storeq_put_session_delete(struct storeq *q, const char *conv_key);
/* One finished request of a client key: added to key_usage (key, day, model). */
void storeq_put_key_usage(struct storeq *q, int64_t key_id, const char *day, const char *model,
                          int64_t requests, int64_t errors, int64_t tokens_in, int64_t tokens_out);

int storeq_flush(struct storeq *q, int64_t timeout_ms);    /* 0 ok, -1 timeout */
uint64_t storeq_dropped(const struct storeq *q);
size_t storeq_depth(const struct storeq *q);
bool storeq_store_ok(const struct storeq *q);              /* last write succeeded */

#endif
