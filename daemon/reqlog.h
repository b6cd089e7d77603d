/* reqlog.h -- the request log: a ring of recent requests in memory, rows
 * queued to the store (storeq) for history and aggregates, per-minute
 * counters for the console's charts, and the live SSE feed
 * (/api/admin/logs/stream) of finished requests and account changes.
 *
 * reqlog_record() copies its argument; it never blocks on I/O.
 * Subscribers: reqlog_sub_open() attaches one client and holds two
 * references: one for the response (reqlog_sub_read is its content reader,
 * reqlog_sub_release its free callback: hand both to http_reply_sse) and
 * one for the request, dropped by reqlog_sse_close() from the
 * request-completed callback.  The reader parks the connection with
 * http_park() under the subscriber's mutex; producers unpark it under the
 * same mutex.  A subscriber that falls more than 1 MiB behind
 * is disconnected.  All functions are thread-safe.
 */
#ifndef REQLOG_H
#define REQLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct store;
struct store_reqlog;
struct storeq;
struct cJSON;
struct MHD_Connection;
struct MHD_Response;
struct reqlog_sub;

struct reqlog_entry {
    const char *request_id;
    const char *dialect;        /* "openai", "anthropic", "responses", "gemini", "images"
                                 * or NULL (= "openai"); stored with the row */
    const char *model;
    int64_t account_id;
    const char *account;
    int status;
    const char *error_kind;
    int64_t latency_ms, ttft_ms;
    int64_t prompt_tokens, completion_tokens;
    int64_t bytes_out;
    bool stream;
    int tool_calls;             /* tool calls returned (emulated tools) */
};

void reqlog_init(struct storeq *q);
void reqlog_shutdown(void);
void reqlog_record(const struct reqlog_entry *e);
void reqlog_account_event(struct cJSON *account);       /* takes ownership */
/* A row read back from the store as the same Log object the ring and the
 * feed show (dialect, tool_calls included; `account` is the account's name
 * or NULL).  Returns NULL when out of memory. */
struct cJSON *reqlog_row_json(const struct store_reqlog *row, const char *account);
/* Refill the ring (and the per-minute counters of the last hour) with the
 * store's newest rows, so that the console's and the TUI's live views show
 * the recent requests after a restart.  Call once at start-up, before any
 * request is recorded.  name_of(id, buf, n) writes an account's name (may
 * be NULL).  Returns the number of rows loaded, -1 on a store error. */
int reqlog_preload(struct store *st, void (*name_of)(int64_t id, char *buf, size_t n));
/* Newest first, filtered; returns a cJSON array. */
struct cJSON *reqlog_recent(int limit, const char *model, int64_t account_id, int status_min,
                            int status_max, int64_t since_ms);
/* {"t","requests","errors"} for the last 60 minutes. */
struct cJSON *reqlog_per_minute(void);
void reqlog_rates(double *rpm, double *error_rate);
/* Requests per dialect in the in-memory ring since since_ms: fills up to
 * max (name, count) pairs, returns how many.  O(ring), no allocation. */
int reqlog_dialect_counts(int64_t since_ms, char names[][16], int64_t *counts, int max);     /* over the last 5 minutes */
uint64_t reqlog_store_dropped(void);
bool reqlog_store_ok(void);
void reqlog_tick(void);                                 /* pings; call about once a second */

struct reqlog_sub *reqlog_sub_open(struct MHD_Connection *conn);   /* NULL: out of memory */
ssize_t reqlog_sub_read(void *cls, uint64_t pos, char *buf, size_t max);
void reqlog_sub_release(void *cls);
void reqlog_sse_close(struct reqlog_sub *s);

#endif
