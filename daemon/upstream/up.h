/* up.h -- private to daemon/upstream/: what the upstream modules share.
 * Nothing outside daemon/upstream/ includes it (the public face is
 * upstream.h).
 *
 *   loop.c     the thread: epoll + eventfd + curl multi, the command queue
 *              (submit / cancel / unpause / resolved), the active list and
 *              the tick (client hang-ups, pings, deadlines, drain)
 *   machine.c  the per-call state machine: account, session, stream,
 *              failover, the translator's sink, the end of a call
 *   oxsrf.c    getoxsrf + JWT signing per account (waiters queued)
 *   google.c   Gemini Business request bodies, error bodies, status ->
 *              pool outcome
 *   xfer.c     one libcurl transfer (easy handle, headers, buffers)
 *   attach.c   attachments: SSRF-pinned fetch of http(s) URLs, upload
 *   genmedia.c generated files: metadata list and download with back-off
 *
 * Threading: everything here runs on the loop thread that owns the call
 * (upstream.h: a call stays on one loop), except up_resolved_cb()
 * (resolver threads) and the command posting in loop.c.  Per-loop state
 * (multi handle, active list, sign-ins in flight, key cache, answer.c's
 * scratch, machine.c's UTF-8 buffer) is reached through the loop of the
 * calling thread; what loops share is the pool (its own lock) and the
 * accounts' sign-in state (oxsrf.c, auth_mu).
 * Failure: functions that start work report failures through the call
 * (up_finish_err / up_failover), never by return value, unless stated.
 */
#ifndef UP_H
#define UP_H

#include <curl/curl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "call.h"
#include "config.h"
#include "gg_buf.h"
#include "pool.h"

struct media_resolved;

enum { S_ACQUIRE = 0, S_JWT, S_SESSION, S_STREAM, S_DONE, S_FETCH, S_UPLOAD, S_MEDIA };
enum { X_OXSRF = 1, X_SESSION, X_STREAM, X_FETCH, X_UPLOAD, X_LIST, X_DOWNLOAD, X_REFRESH };
/* where a call continues once its account has a valid signing key */
enum { R_SESSION = 0, R_UPLOAD, R_STREAM, R_LIST, R_DOWNLOAD };

#define OUT_HIGH_WATER (256u * 1024u)
#define ERR_BODY_MAX (64u * 1024u)
#define TICK_MS 200
#define FRESH_CONN_ABOVE 256     /* active calls above which streams skip the connection cache */
#define JWT_REFRESH_MARGIN_MS 60000
#define FETCH_MAX_HOPS 5
#define UPLOAD_TIMEOUT_S 120
#define LIST_TIMEOUT_S 30
#define DOWNLOAD_TIMEOUT_S 180
#define DOWNLOAD_ATTEMPTS 3
#define DOWNLOAD_BACKOFF_MS 500          /* 500 ms, then 1 s */
#define DOWNLOAD_MAX (64u << 20)
#define POLL_EVERY_MS 2000             /* file list polls after a stream without a file */
#define UA "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36"

#define XFER_FIXED_HDRS 12
struct xfer {
    int kind;
    CURL *easy;
    /* request headers: the fixed ones (static strings and auth_hdr) as
     * nodes inside the xfer, no allocation each; then hdrs (curl_slist,
     * owned) in the order added */
    struct curl_slist fixed[XFER_FIXED_HDRS];
    size_t n_fixed;
    char *auth_hdr;              /* "authorization: Bearer <JWT>", owned, wiped on free */
    struct curl_slist *hdrs;
    bool done_ok;                /* curl reported the transfer complete (CURLE_OK): the handle may be reused */
    char *post;
    struct gg_buf resp;          /* getoxsrf / createSession body, or error body */
    long status;
    bool status_known;
    bool oom;                    /* a header could not be added: do not start */
    struct call *call;           /* X_SESSION, X_STREAM */
    struct account *acct;        /* X_OXSRF (own reference) */
    uint64_t gen;
    char csesidx[32];
    int64_t t0_ms;
    struct curl_slist *resolve;  /* X_FETCH: the pinned address */
    bool allow_private;          /* X_FETCH: policy at start */
    bool too_large;              /* X_FETCH / X_DOWNLOAD: cap hit */
    char *set_ses, *set_oses;    /* X_REFRESH: Set-Cookie values received */
    struct xfer *auth_prev, *auth_next;   /* X_OXSRF / X_REFRESH in flight (oxsrf.c) */
};

/* ---- per-loop sign-in state (oxsrf.c uses it, loop.c holds it) */
#define UP_KEYCACHE 64
struct up_key_ent {                  /* one account's key as this loop last saw it */
    const struct account *a;
    int64_t id;
    uint64_t epoch;                  /* key_epoch when copied */
    char key[256], kid[128], csesidx[32];
    int64_t exp_ms, life_ms;
    uint64_t gen;
    /* the JWT last signed from this key and its second: a JWT's claims
     * have one-second resolution (iat, nbf, exp), so a second signature in
     * the same second is the same bytes; up_sign_jwt() copies it instead */
    char jwt[768];
    int jwt_len;                     /* 0 = none */
    int64_t jwt_s;
};
struct up_loop_auth {
    struct xfer *head;               /* sign-ins in flight on this loop */
    struct up_key_ent cache[UP_KEYCACHE];
};
struct up_auth_note {                /* CMD_AUTH: how another loop's sign-in ended */
    struct account *a;
    bool ok;
    int outcome;                     /* enum outcome when !ok */
    char detail[200];
};

/* ---- loop.c: the functions below act on the calling thread's loop */
int up_curl_add(CURL *e);                    /* 0 or -1 */
void up_curl_remove(CURL *e);
int up_active_count(void);
bool up_draining(void);                     /* upstream_drain() was called */
void up_active_del(struct call *c);
void up_resolved_cb(void *arg, struct media_resolved *res);   /* resolver thread */
struct up_loop_auth *up_auth_here(void);
bool up_call_here(const struct call *c);    /* c belongs to this thread's loop */
/* Queue CMD_AUTH for c on its loop; takes over one call reference. */
void up_post_auth(struct call *c, const struct up_auth_note *note);

/* ---- xfer.c: NULL on allocation failure.  The easy handles of
 * createSession and streamAssist (the per-request pair) are reused on the
 * loop that ran them (at most XFER_IDLE_MAX idle per loop): up_xfer_free()
 * keeps a handle only when its transfer completed (done_ok) and resets it
 * (curl_easy_reset: options, headers, body, private pointer, auth state
 * gone); up_xfer_new() sets every option again.  Other kinds (fetches of
 * client URLs, sign-ins, uploads, downloads) get a fresh handle each. */
#define XFER_IDLE_MAX 16
struct xfer *up_xfer_new(int kind, const char *url, const char *proxy);
void up_xfer_free(struct xfer *x);          /* NULL-safe; removes it from the multi */
void up_xfer_header(struct xfer *x, const char *h);   /* copied; sets x->oom on failure */
void up_xfer_clear_headers(struct xfer *x);  /* drop every header added so far */
/* Idle handles kept by this loop, and freeing them (idle loop, shutdown). */
int up_xfer_idle_count(void);
void up_xfer_idle_free(void);
/* Hand to curl; false (nothing started, x untouched) when x->oom. */
bool up_xfer_start(struct xfer *x);
/* The call's current transfer: link both ways and start; on failure the
 * transfer is freed and the call failed (500). */
void up_start_for(struct call *c, struct xfer *x);
void up_api_headers(struct xfer *x, const struct account *a);
size_t up_write_capped(char *ptr, size_t size, size_t nmemb, void *ud);
/* CURLOPT_HEADERFUNCTION collecting Set-Cookie __Secure-C_SES /
 * __Host-C_OSES into x->set_ses / x->set_oses. */
size_t up_header_cookies(char *ptr, size_t size, size_t nmemb, void *ud);

/* ---- google.c: bodies are malloc'd JSON text, NULL on allocation failure */
enum google_op { G_OXSRF, G_SESSION, G_STREAM, G_UPLOAD };
/* The pool outcome of a non-200 answer to `op` (one table for all calls). */
enum outcome google_outcome(enum google_op op, long status);
/* {"error":{"code","message","status","details":[{"reason"}]}} (XSSI
 * prefix allowed) into status / msg / reason (the first details[].reason). */
void google_error(const struct gg_buf *body, char *status, size_t sn, char *msg, size_t mn,
                  char *reason, size_t rn);
/* The outcome of a 429 (HTTP or in-band): LLM_OVERLOADED in the reason,
 * status or message = OUT_OVERLOADED, anything else = OUT_RATE_LIMIT. */
enum outcome google_429_kind(const char *status, const char *msg, const char *reason);
/* Does an error (404 / 400) say the model is unknown or unsupported?
 * model_id may be NULL (auto: never). */
bool google_model_rejected(long st, const char *msg, const char *model_id);
struct google_query {
    const char *config_id, *session, *text;
    const char (*file_ids)[96];
    size_t n_file_ids;
    unsigned tools;                         /* TOOLS_* */
    const char *model_id;                   /* NULL = auto */
};
char *google_session_body(const char *config_id);
char *google_stream_body(const struct google_query *q);
char *google_list_body(const char *config_id, const char *session);
char *google_upload_body(const char *config_id, const char *session, const struct exch_attachment *a);

/* ---- machine.c */
void up_reset_attempt(struct call *c);
void up_release_account(struct call *c);
void up_call_done(struct call *c);          /* drops the upstream reference */
void up_finish_err(struct call *c, int status, const char *code, int retry_after, const char *kind,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void up_finish_part_err(struct call *c, const char *param, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void up_failover(struct call *c, enum outcome o, const char *detail);
void up_failover_ex(struct call *c, enum outcome o, const char *detail, bool report);
bool up_retry_once(struct call *c, long st, const char *gm);
void up_step_acquire(struct call *c);
void up_step_session(struct call *c);
void up_step_stream(struct call *c);
void up_complete_ok(struct call *c);
void up_session_done(struct xfer *x, CURLcode res);
void up_stream_done(struct xfer *x, CURLcode res);

/* ---- sinks.c: translator callbacks applied to the call */
void up_sinks_init(struct call *c);         /* fresh translator for an attempt */
int up_on_element(void *ctx, const char *elem, size_t n);   /* splitter callback */
void up_sink_text(void *ctx, const char *s, size_t n, bool thought);
void up_sinks_cleanup(void);                /* this loop's buffers, at its end */

/* ---- oxsrf.c */
void up_step_jwt(struct call *c);            /* key, then up_step_session */
/* If the call's account has no signing key valid for a while, queue the
 * call for getoxsrf (it continues at resume_at, one of R_*) and return
 * true; false = go on now. */
bool up_key_or_wait(struct call *c, int resume_at);
bool up_key_valid(const struct account *a);
void up_key_invalidate(struct account *a);   /* after a 401: sign in again */
void up_oxsrf_unwait(struct call *c);        /* leave the account's waiters (cancel) */
void up_oxsrf_resume(struct call *c, const struct up_auth_note *note);   /* CMD_AUTH */
/* A fresh JWT from the account's key into out; length or -1. */
int up_sign_jwt(const struct account *a, char *out, size_t n);
/* Expiry watch: getoxsrf without a call, unless one runs or the last probe
 * is younger than idle_ms; true when started. */
bool up_oxsrf_probe(struct account *a, int64_t now_ms, int64_t idle_ms);
void up_oxsrf_done(struct xfer *x, CURLcode res);   /* X_OXSRF and X_REFRESH */
void up_oxsrf_shutdown(void);                /* free this loop's sign-ins still in flight */

/* ---- attach.c */
void up_step_fetch(struct call *c);
void up_fetch_resolved(struct call *c, struct media_resolved *res);
void up_fetch_done(struct xfer *x, CURLcode res);
void up_step_upload(struct call *c);
void up_upload_done(struct xfer *x, CURLcode res);

/* ---- genmedia.c */
void up_step_media(struct call *c);
void up_step_download(struct call *c);
void up_list_done(struct xfer *x, CURLcode res);
void up_download_done(struct xfer *x, CURLcode res);
/* Sign-in for the media calls failed: the files are lost, the answer ends. */
void up_media_signin_failed(struct call *c, const char *detail);
/* A stream without a file for image/video work: poll the session's file
 * list until files appear or IMAGE_POLL_TIMEOUT passes. */
void up_step_poll(struct call *c);
/* Add a generated file (de-duplicated by id); NULL when known or full. */
struct gen_file *up_add_gen(struct call *c, const char *file_id, const char *mime);
/* Base64 text of a file whose decoded bytes are an allowed image or video
 * type (every allowed type, not only PNG / JPEG): the decoded bytes
 * (malloc'd, *n, *mime = the sniffed type), else NULL (not base64 of such a
 * file, or no memory). */
unsigned char *up_b64_media(const char *p, size_t len, size_t *n, const char **mime);
/* An inlineData reply: base64 bytes of a generated file. */
void up_inline_file(struct call *c, const char *mime, const char *b64);
/* The kind of work of a call (cooldowns are kept per kind). */
enum work_kind up_work_kind(const struct call *c);

#endif
