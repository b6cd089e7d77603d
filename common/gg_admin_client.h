/* gg_admin_client.h -- client for the gemgate admin REST API (docs/ADMIN_API.md).
 *
 * Three layers, each usable on its own:
 *
 *  1. Blocking calls (gg_admin_*): one libcurl easy transfer per call.  Each
 *     returns the parsed JSON reply (caller owns it: cJSON_Delete) or NULL
 *     with *err filled.  A struct gg_admin_client holds only settings and may
 *     be shared read-only by several threads; every call uses its own curl
 *     handle.  curl_global_init() must have been called once by main().
 *
 *  2. An incremental SSE parser (gg_sse_*): pure, no I/O, feed it arbitrary
 *     chunks; it calls back once per complete event.
 *
 *  3. An asynchronous front end (gg_admin_async_*) for UIs that must never
 *     block: worker threads run queued requests and one optional stream
 *     thread follows /api/admin/logs/stream, reconnecting by itself.  Results
 *     are queued and a pipe fd becomes readable whenever one is waiting, so
 *     the UI can poll() it next to stdin.
 *
 * Sources: layer 1 in gg_admin_client.c (settings, errors, transfers) and
 * gg_admin_routes.c (route helpers), layer 2 in gg_admin_sse.c, layer 3 in
 * gg_admin_async.c.
 *
 * Errors never abort: every failure is reported in a struct gg_admin_error
 * whose `kind` says what to tell the user (cannot connect, key rejected,
 * locked out, HTTP error with the server's error.code, bad reply).
 */
#ifndef GG_ADMIN_CLIENT_H
#define GG_ADMIN_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <cJSON.h>

#include "gg_buf.h"

#define GG_ADMIN_DEFAULT_URL "http://127.0.0.1:7860"

enum gg_admin_kind {
    GG_ADMIN_OK = 0,
    GG_ADMIN_E_CONNECT,    /* network: refused, DNS, timeout, reset */
    GG_ADMIN_E_AUTH,       /* 401 unauthorized */
    GG_ADMIN_E_LOCKED,     /* 429 locked_out (retry_after_s set) */
    GG_ADMIN_E_HTTP,       /* any other HTTP error status */
    GG_ADMIN_E_PARSE,      /* reply is not the JSON we expected */
    GG_ADMIN_E_NOMEM,      /* allocation failure / reply over the size cap */
    GG_ADMIN_E_CANCELLED,  /* aborted by gg_admin_async_free() */
    GG_ADMIN_E_ARG         /* bad argument (e.g. unreadable import file) */
};

struct gg_admin_error {
    enum gg_admin_kind kind;
    long http_status;       /* 0 when no HTTP reply was received */
    char code[64];          /* error.code from the envelope, or "" */
    char message[512];      /* human-readable, never contains the key */
    long retry_after_s;     /* Retry-After in seconds, 0 when absent */
};

/* Connection settings.  Strings are owned (malloc'd) by the struct. */
struct gg_admin_client {
    char *base_url;          /* without trailing '/' */
    char *key;               /* admin key, may be NULL */
    long connect_timeout_ms; /* default 3000 */
    long timeout_ms;         /* whole-request timeout, default 15000 */
    long slow_timeout_ms;    /* for test/import, default 120000 */
    size_t max_reply;        /* reply size cap, default 32 MiB */
};

/* Fill c with copies of url (NULL = default) and key (may be NULL) and the
 * default timeouts.  Returns 0, or -1 on allocation failure. */
int gg_admin_client_init(struct gg_admin_client *c, const char *url, const char *key);
/* Release the strings; wipes the key.  Safe on a zeroed struct. */
void gg_admin_client_free(struct gg_admin_client *c);
/* Copy settings from src into dst (dst must be uninitialised). */
int gg_admin_client_copy(struct gg_admin_client *dst, const struct gg_admin_client *src);

/* One-line description of err for a status line or stderr, e.g.
 * "cannot reach http://127.0.0.1:7860: Connection refused",
 * "admin key rejected (401)", "locked out, retry in 900s",
 * "not_found: no such account (404)". */
void gg_admin_strerror(const struct gg_admin_error *err, const char *base_url,
                       char *out, size_t n);

/* Generic call: method "GET"/"POST"/"PUT"/"DELETE", path starting with
 * "/api/admin/", optional body (NULL = none) sent as content_type (NULL =
 * application/json).  slow selects slow_timeout_ms.  cancel, when not NULL,
 * aborts the transfer as soon as it becomes non-zero.  Returns the parsed
 * reply or NULL with err set.  A 2xx reply that is empty returns a cJSON
 * null. */
cJSON *gg_admin_call(const struct gg_admin_client *c, const char *method, const char *path,
                     const char *body, size_t body_len, const char *content_type,
                     bool slow, const volatile int *cancel, struct gg_admin_error *err);

/* Route helpers.  `fields` objects are not consumed. */
cJSON *gg_admin_accounts_list(const struct gg_admin_client *c, const char *status,
                              const char *q, struct gg_admin_error *err);
cJSON *gg_admin_account_get(const struct gg_admin_client *c, long long id, struct gg_admin_error *err);
cJSON *gg_admin_account_create(const struct gg_admin_client *c, const cJSON *fields,
                               struct gg_admin_error *err);
cJSON *gg_admin_account_update(const struct gg_admin_client *c, long long id, const cJSON *fields,
                               struct gg_admin_error *err);
cJSON *gg_admin_account_delete(const struct gg_admin_client *c, long long id, struct gg_admin_error *err);
cJSON *gg_admin_account_enable(const struct gg_admin_client *c, long long id, struct gg_admin_error *err);
/* reason may be NULL */
cJSON *gg_admin_account_disable(const struct gg_admin_client *c, long long id, const char *reason,
                                struct gg_admin_error *err);
cJSON *gg_admin_account_reset(const struct gg_admin_client *c, long long id, struct gg_admin_error *err);
cJSON *gg_admin_account_test(const struct gg_admin_client *c, long long id, struct gg_admin_error *err);
/* text is sent as-is (JSON, .env blocks or pipe-separated lines). */
cJSON *gg_admin_import(const struct gg_admin_client *c, const char *text, size_t len,
                       struct gg_admin_error *err);
/* window "1h" / "24h" or NULL */
cJSON *gg_admin_stats(const struct gg_admin_client *c, const char *window, struct gg_admin_error *err);

struct gg_admin_log_query {
    int limit;                 /* 0 = server default */
    const char *model;         /* NULL = any */
    long long account_id;      /* < 0 = any */
    const char *status;        /* "429", "5xx", NULL */
    const char *since;         /* RFC 3339, NULL */
};
cJSON *gg_admin_logs(const struct gg_admin_client *c, const struct gg_admin_log_query *q,
                     struct gg_admin_error *err);
cJSON *gg_admin_overview(const struct gg_admin_client *c, struct gg_admin_error *err);

/* Client keys (docs/ADMIN_API.md, "Client keys").  key_create returns
 * {"key":{...},"secret":"gk-..."}: the only time the secret exists outside
 * the daemon; the caller shows it once and must not log it.  key_update
 * sends PATCH (fields not sent keep their value, inside "limits" too).
 * days <= 0 = the server default (30). */
cJSON *gg_admin_keys_list(const struct gg_admin_client *c, struct gg_admin_error *err);
cJSON *gg_admin_key_get(const struct gg_admin_client *c, long long id, struct gg_admin_error *err);
cJSON *gg_admin_key_create(const struct gg_admin_client *c, const cJSON *fields,
                           struct gg_admin_error *err);
cJSON *gg_admin_key_update(const struct gg_admin_client *c, long long id, const cJSON *fields,
                           struct gg_admin_error *err);
cJSON *gg_admin_key_delete(const struct gg_admin_client *c, long long id, struct gg_admin_error *err);
cJSON *gg_admin_key_usage(const struct gg_admin_client *c, long long id, int days,
                          struct gg_admin_error *err);

/* Percent-encode s for a query component into b.  Returns 0 or -1. */
int gg_admin_urlencode(struct gg_buf *b, const char *s);

/* ---- Server-sent events parser ------------------------------------------
 * Lines end in LF, CRLF or CR (a CR/LF pair split across chunks counts
 * once).  "event:" sets the type, "data:" lines are joined with '\n',
 * lines starting with ':' are comments, an empty line dispatches the event
 * (only when some data was seen; the type defaults to "message").  One
 * space after the colon is stripped.  Lines longer than max_line poison the
 * parser (gg_sse_feed returns -1 from then on). */
typedef int (*gg_sse_cb)(void *ctx, const char *event, const char *data, size_t len);

struct gg_sse_parser {
    struct gg_buf line;
    struct gg_buf event;
    struct gg_buf data;
    bool have_data;
    bool skip_lf;
    bool broken;
};

void gg_sse_init(struct gg_sse_parser *p, size_t max_line);
void gg_sse_free(struct gg_sse_parser *p);
/* Feed n bytes; calls cb for each complete event.  Returns 0, the first
 * non-zero value returned by cb (parsing stops there), or -1 on overflow. */
int gg_sse_feed(struct gg_sse_parser *p, const char *buf, size_t n, gg_sse_cb cb, void *ctx);

/* Blocking stream reader for /api/admin/logs/stream: connects, checks the
 * status, then calls cb for each event until the server closes, cancel
 * becomes non-zero, or cb returns non-zero.  `on_open` (may be NULL) is
 * called once the 200 reply headers arrived.  Returns GG_ADMIN_OK when the
 * stream ended normally, else an error kind with err filled. */
enum gg_admin_kind gg_admin_logs_stream(const struct gg_admin_client *c, gg_sse_cb cb,
                                        void (*on_open)(void *ctx), void *ctx,
                                        const volatile int *cancel, struct gg_admin_error *err);

/* ---- Asynchronous front end ---------------------------------------------- */

enum gg_admin_res_type {
    GG_ADMIN_RES_REPLY = 0,    /* reply to a submitted request */
    GG_ADMIN_RES_EVENT,        /* one SSE event: event + json (or NULL if not JSON) */
    GG_ADMIN_RES_STREAM_UP,    /* stream connected */
    GG_ADMIN_RES_STREAM_DOWN   /* stream lost; err says why; stopped says if it gave up */
};

struct gg_admin_result {
    struct gg_admin_result *next;   /* internal */
    enum gg_admin_res_type type;
    long id;                        /* request id from submit; 0 for stream results */
    int tag;                        /* caller's tag from submit */
    char *event;                    /* SSE event name (RES_EVENT) */
    cJSON *json;                    /* reply or event data; owned by the result */
    struct gg_admin_error err;      /* kind GG_ADMIN_OK on success */
    bool stopped;                   /* RES_STREAM_DOWN: thread exited (auth) */
};

struct gg_admin_async;

/* Start nthreads (1..8) workers using a copy of c.  Returns NULL on failure. */
struct gg_admin_async *gg_admin_async_new(const struct gg_admin_client *c, int nthreads);
/* Cancel in-flight transfers, join all threads, drop queued work and
 * results.  Safe with NULL. */
void gg_admin_async_free(struct gg_admin_async *a);
/* fd that is readable while results are waiting (drain it with
 * gg_admin_async_drain_fd before polling again). */
int gg_admin_async_fd(const struct gg_admin_async *a);
void gg_admin_async_drain_fd(struct gg_admin_async *a);
/* Queue a request (copies all arguments).  Returns its id (> 0) or -1. */
long gg_admin_async_submit(struct gg_admin_async *a, const char *method, const char *path,
                           const char *body, size_t body_len, const char *content_type,
                           bool slow, int tag);
/* Number of submitted requests whose result was not yet taken. */
int gg_admin_async_pending(struct gg_admin_async *a);
/* Start following the log stream (no-op if already running).  The thread
 * reconnects after network errors with back-off (1 s doubling to 15 s) and
 * gives up (RES_STREAM_DOWN with stopped=true) on 401/429 so that it never
 * feeds a lock-out.  Returns 0 or -1. */
int gg_admin_async_stream_start(struct gg_admin_async *a);
bool gg_admin_async_stream_running(struct gg_admin_async *a);
/* Next result or NULL.  Free with gg_admin_result_free. */
struct gg_admin_result *gg_admin_async_take(struct gg_admin_async *a);
void gg_admin_result_free(struct gg_admin_result *r);

#endif
