/* http.h -- the HTTP front: libmicrohttpd in epoll thread-pool mode with
 * suspend/resume, the route table, request admission, and reply helpers.
 *
 * http is a leaf: it includes no handler header.  The program hands it a
 * route table (routes.c) at http_start().  Every request gets a struct
 * http_req (MHD's con_cls), freed by the request-completed callback after
 * the route's `completed` hook ran.
 *
 * Admission happens on MHD's FIRST callback, before any body byte is
 * stored: Host check (only when no API key is configured), route lookup
 * (404), method (405), authentication by the route's auth kind (401/429),
 * Content-Length against the route's body limit (413 at once; a bodyless
 * route accepts none), Content-Type on JSON routes (415).  Refusals use the
 * route's error envelope.  Chunked bodies are counted as they arrive; the
 * body must arrive within REQUEST_TIMEOUT of the headers (408, or the
 * connection is closed when MHD can no longer queue a reply).
 *
 * Handlers return MHD_YES after queueing a response (or after suspending
 * the connection) and MHD_NO to drop the connection.  Reply helpers add
 * x-request-id and CORS headers; on allocation failure they return MHD_NO.
 */
#ifndef HTTP_H
#define HTTP_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "gg_buf.h"

struct call;
struct cJSON;
struct settings;
struct http_req;

enum http_auth {
    HTTP_AUTH_NONE = 0,
    HTTP_AUTH_API,          /* an API_KEY (open when none is configured) */
    HTTP_AUTH_ADMIN,        /* the admin key (lockout counted per address) */
    HTTP_AUTH_METRICS,      /* METRICS_KEY when set, else open */
};

#define HTTP_BODY_MAX (-1)  /* max_body: the MAX_BODY setting */

/* Writes a complete error body for an early refusal (JSON). */
typedef void (*http_error_body_fn)(int status, const char *code, const char *msg, struct gg_buf *out);
typedef enum MHD_Result (*http_handler_fn)(struct http_req *r);
typedef void (*http_completed_fn)(struct http_req *r, enum MHD_RequestTerminationCode toe);

struct http_route {
    const char *methods;            /* space-separated ("GET HEAD"), NULL = any */
    const char *path;
    bool prefix;                    /* path, path + "/..." (or any suffix when path ends in '/') */
    enum http_auth auth;
    int64_t max_body;               /* bytes; 0 = no body; HTTP_BODY_MAX */
    bool json;                      /* a body must be JSON (415 otherwise; no Content-Type is accepted) */
    bool ticket_ok;                 /* a ?ticket= from http_ticket_issue() also authenticates */
    http_handler_fn handle;         /* called once the body is complete, and after each resume */
    http_completed_fn completed;    /* may be NULL */
    http_error_body_fn error_body;  /* NULL: the OpenAI envelope of the table's first route */
    /* HTTP_AUTH_API: where this dialect's clients put the key (e.g. Gemini's
     * x-goog-api-key or ?key=); NULL = Bearer, else x-api-key. */
    const char *(*api_key)(struct http_req *r);
};

struct http_req {
    char request_id[40];
    struct MHD_Connection *conn;
    const char *method;
    char *url;
    struct gg_buf body;
    bool body_done;
    bool refused;                   /* answered on the first callback: the body is dropped */
    bool authed;                    /* the route's auth kind passed on the first callback */
    char key_id[24];                /* HTTP_AUTH_API: short id of the key ("" when open) */
    int64_t t_start_us;
    int64_t deadline_ms;            /* monotonic: the whole body by then */
    int status;                     /* last status queued */
    struct call *call;              /* chat / test exchanges */
    const struct http_route *route;
    const struct settings *snap;    /* settings for this request (pinned in every callback) */
    void *state;                    /* handler-owned */
    void (*state_free)(void *);
    char client_ip[64];
};

/* Routes are matched in order; the first whose path matches decides (a
 * method it does not list is 405).  The table must outlive the daemon. */
int http_start(const struct http_route *routes, size_t n);
/* An extra API-key check consulted before the root keys on HTTP_AUTH_API
 * routes (client keys): 1 accept (key_id filled), 0 refuse with msg (401),
 * -1 not mine; *code names the refusal.  Set once at start-up. */
typedef int (*http_key_hook_fn)(const char *tok, char key_id[24], const char **code, char *msg, size_t msgn);
void http_set_key_hook(http_key_hook_fn fn);   /* 0 or -1 (message logged) */
void http_quiesce(void);           /* stop accepting new connections */
void http_stop(void);
uint16_t http_port(void);
int http_connections(void);
uint64_t http_requests_total(void);   /* requests received since start */
const char *http_bound_host(void);

enum MHD_Result http_reply(struct http_req *r, int status, const char *ctype, const void *data, size_t n);
enum MHD_Result http_reply_json(struct http_req *r, int status, const char *json, size_t n);
enum MHD_Result http_reply_cjson(struct http_req *r, int status, struct cJSON *j); /* frees j */
/* An early-refusal style error in the request's route envelope. */
enum MHD_Result http_reply_error(struct http_req *r, int status, const char *code, const char *msg,
                                 int retry_after);
/* Queue resp (adds common headers, records the status, destroys resp). */
enum MHD_Result http_queue(struct http_req *r, int status, struct MHD_Response *resp);
/* 200 text/event-stream from a content reader (no-cache, no proxy buffering).
 * free_cb (may be NULL) runs when MHD drops the response, also on failure. */
enum MHD_Result http_reply_sse(struct http_req *r, size_t block, MHD_ContentReaderCallback reader, void *cls,
                               MHD_ContentReaderFreeCallback free_cb);
/* Generated media: only allow-listed image types are served as such
 * (anything else as application/octet-stream with attachment), always
 * with nosniff.  Copies data. */
enum MHD_Result http_reply_media(struct http_req *r, const char *mime, const void *data, size_t n,
                                 const char *cache_control);
bool http_media_type_ok(const char *mime);
void http_add_common_headers(struct http_req *r, struct MHD_Response *resp);
const char *http_header(struct http_req *r, const char *name);
const char *http_query(struct http_req *r, const char *name);
/* Bearer token from Authorization, or x-api-key / x-admin-key (alt). */
const char *http_bearer(struct http_req *r, const char *alt_header);

/* ---- suspend / resume ----------------------------------------------------
 * One helper for every parked connection (chat and admin test calls, the
 * request-log stream).  `*suspended` and `gone` live in the owner's object
 * and are guarded by ONE owner mutex, which the caller holds in every call
 * below; the producer appends output and calls http_unpark() under that
 * same mutex, so a wake-up can never be lost between "nothing to send" and
 * the suspend.  Neither function calls back into the owner, so holding the
 * mutex is safe.
 *   http_park:   MHD thread only (a handler or a content reader that has
 *                nothing to send yet).  Sets *suspended.
 *   http_unpark: any thread.  Resumes once if suspended and not gone;
 *                returns true when it resumed.
 *   When the request completes (completed hook) the owner sets gone = true
 *   and *suspended = false under the mutex; nobody resumes after that. */
void http_park(struct MHD_Connection *conn, bool *suspended);
bool http_unpark(struct MHD_Connection *conn, bool *suspended, bool gone);

/* Route lookup as admission does it (first path match), or NULL. */
const struct http_route *http_route_find(const struct http_route *t, size_t n, const char *url);
/* true when a Host header value names this machine (see admission). */
bool http_host_names_us(const char *host);

/* ---- single-use tickets -----------------------------------------------------
 * For clients that cannot send headers (EventSource): a random ticket,
 * valid HTTP_TICKET_TTL_S seconds for ONE request to a route with
 * ticket_ok.  http_ticket_handle answers {"ticket":"...","expires_in":60}
 * (register it behind the auth kind that may obtain tickets). */
#define HTTP_TICKET_TTL_S 60
int http_ticket_issue(char out[65]);      /* 0 or -1 (table full) */
bool http_ticket_take(const char *ticket);  /* valid and unused: consumes it */
enum MHD_Result http_ticket_handle(struct http_req *r);

#endif
