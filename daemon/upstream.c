/* upstream.c -- see upstream.h
 *
 * Call steps (upstream thread only):
 *   S_ACQUIRE  pick an account (conversation's account first, then pool)
 *   S_JWT      wait for the account's getoxsrf (shared by all its calls)
 *   S_SESSION  widgetCreateSession (skipped for a continuing conversation)
 *   S_FETCH    http(s) attachments: resolve on a helper thread, check every
 *              address, fetch pinned to the checked one (before S_ACQUIRE)
 *   S_ACQUIRE  ...
 *   S_UPLOAD   widgetAddContextFile per attachment of the current turn into
 *              the attempt's session (again after a failover: new session)
 *   S_STREAM   widgetStreamAssist, splitter -> translator -> output
 *   S_MEDIA    generated files: widgetListSessionFileMetadata, then one
 *              downloadFile per file (3 attempts, back-off), then the
 *              markdown images / images API body
 *   S_DONE     output finished, reference dropped
 * Failover happens only while no answer content has reached the client.
 */
#include "upstream.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdatomic.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "call.h"
#include "config.h"
#include "flatten.h"
#include "gg_b64.h"
#include "gg_log.h"
#include "gg_time.h"
#include "gg_util.h"
#include "jwt.h"
#include "media.h"
#include "pool.h"
#include "metrics.h"
#include "sessions.h"

enum { S_ACQUIRE = 0, S_JWT, S_SESSION, S_STREAM, S_DONE, S_FETCH, S_UPLOAD, S_MEDIA };
enum { X_OXSRF = 1, X_SESSION, X_STREAM, X_FETCH, X_UPLOAD, X_LIST, X_DOWNLOAD };

#define OUT_HIGH_WATER (256u * 1024u)
#define OUT_LOW_WATER (64u * 1024u)
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
#define UA "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36"

struct xfer {
    int kind;
    CURL *easy;
    struct curl_slist *hdrs;
    char *post;
    struct gg_buf resp;          /* getoxsrf / createSession body, or error body */
    long status;
    bool status_known;
    struct call *call;           /* X_SESSION, X_STREAM */
    struct account *acct;        /* X_OXSRF (own reference) */
    uint64_t gen;
    char csesidx[32];
    int64_t t0_ms;
    struct curl_slist *resolve;  /* X_FETCH: the pinned address */
    bool allow_private;          /* X_FETCH: policy at start */
    bool too_large;              /* X_FETCH / X_DOWNLOAD: cap hit */
};

enum cmd_kind { CMD_SUBMIT, CMD_CANCEL, CMD_UNPAUSE, CMD_RESOLVED };
struct cmd {
    enum cmd_kind kind;
    struct call *call;
    struct media_resolved *res;  /* CMD_RESOLVED, owned */
    struct cmd *next;
};

static pthread_t thr;
static CURLM *multi;
static pthread_mutex_t qmu = PTHREAD_MUTEX_INITIALIZER;
static struct cmd *qhead, *qtail;
static atomic_int stop_flag;
static _Atomic int64_t drain_deadline;    /* 0 = not draining */
static struct call *active_head;
static int active_n;
static atomic_int active_pub;
static int ep = -1;                      /* epoll set: curl sockets + wake_fd */
static int wake_fd = -1;                 /* eventfd: commands are waiting */
static int64_t curl_deadline = -1;       /* curl's timer, monotonic ms */

static void wake(void)
{
    uint64_t one = 1;
    if (wake_fd >= 0) {
        ssize_t w = write(wake_fd, &one, sizeof(one));
        (void)w;
    }
}

/* ---- command queue ------------------------------------------------------- */

static void post(enum cmd_kind k, struct call *c)
{
    struct cmd *m = malloc(sizeof(*m));
    if (!m)
        return;
    m->kind = k;
    m->call = c;
    m->res = NULL;
    m->next = NULL;
    if (k != CMD_SUBMIT) {
        pthread_mutex_lock(&c->mu);
        c->refs++;
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_lock(&qmu);
    if (qtail)
        qtail->next = m;
    else
        qhead = m;
    qtail = m;
    pthread_mutex_unlock(&qmu);
    wake();
}

void upstream_submit(struct call *c) { post(CMD_SUBMIT, c); }
void upstream_cancel(struct call *c) { post(CMD_CANCEL, c); }
void upstream_unpause(struct call *c) { post(CMD_UNPAUSE, c); }
int upstream_active(void) { return active_pub; }

/* ---- active list ---------------------------------------------------------- */

static void active_add(struct call *c)
{
    c->act_prev = NULL;
    c->act_next = active_head;
    if (active_head)
        active_head->act_prev = c;
    active_head = c;
    active_n++;
    active_pub = active_n;
}

static void active_del(struct call *c)
{
    if (c->act_prev)
        c->act_prev->act_next = c->act_next;
    else if (active_head == c)
        active_head = c->act_next;
    if (c->act_next)
        c->act_next->act_prev = c->act_prev;
    c->act_prev = c->act_next = NULL;
    active_n--;
    active_pub = active_n;
}

/* Replace invalid UTF-8 with U+FFFD so clients never see broken text. */
static const char *clean_utf8(const char *s, size_t n, size_t *outn, struct gg_buf *tmp)
{
    if (gg_utf8_valid(s, n)) {
        *outn = n;
        return s;
    }
    gg_buf_reset(tmp);
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t k = u[i] < 0x80 ? 1 : (u[i] & 0xE0) == 0xC0 ? 2 : (u[i] & 0xF0) == 0xE0 ? 3 : (u[i] & 0xF8) == 0xF0 ? 4 : 0;
        if (k && i + k <= n && gg_utf8_valid(s + i, k)) {
            gg_buf_add(tmp, s + i, k);
            i += k;
        } else {
            gg_buf_adds(tmp, "\xEF\xBF\xBD");
            i++;
        }
    }
    *outn = tmp->len;
    return tmp->p ? tmp->p : "";
}

static void sink_text(void *ctx, const char *s0, size_t n0, bool thought)
{
    struct call *c = ctx;
    static struct gg_buf tmp = {NULL, 0, 0, 64u << 20};
    size_t n;
    const char *s = clean_utf8(s0, n0, &n, &tmp);
    if (n == 0)
        return;
    c->any_text = c->any_text || !thought;
    if (c->t_first_us == 0) {
        pthread_mutex_lock(&c->mu);
        c->t_first_us = gg_mono_us();
        pthread_mutex_unlock(&c->mu);
    }
    if (thought)
        answer_reasoning(c, s, n);
    else
        answer_text(c, s, n);
}

/* Generated files: the stream repeats them on its last element, so keep
 * each id once. */
static void sink_file(void *ctx, const char *file_id, const char *mime, const char *name)
{
    struct call *c = ctx;
    (void)name;
    c->any_file = true;
    for (size_t i = 0; i < c->n_gen; i++)
        if (strcmp(c->gen[i].id, file_id) == 0)
            return;
    if (c->n_gen >= CALL_MAX_GEN || strlen(file_id) >= sizeof(c->gen[0].id)) {
        GG_WARN("[%s] generated file %.40s ignored (limit %d)", c->request_id, file_id, CALL_MAX_GEN);
        return;
    }
    struct gen_file *g = &c->gen[c->n_gen++];
    memset(g, 0, sizeof(*g));
    snprintf(g->id, sizeof(g->id), "%s", file_id);
    snprintf(g->mime, sizeof(g->mime), "%s", mime && *mime ? mime : "image/png");
}

static void sink_session(void *ctx, const char *session)
{
    (void)ctx; (void)session; /* the long projects/... form; we keep the created name */
}

static void sink_state(void *ctx, const char *state, const char *detail)
{
    struct call *c = ctx;
    if (strcmp(state, "SUCCEEDED") == 0)
        c->final_state = "SUCCEEDED";
    else if (strcmp(state, "SKIPPED") == 0)
        c->final_state = "SKIPPED";
    else if (strcmp(state, "FAILED") == 0)
        c->final_state = "FAILED";
    if (detail) {
        free(c->skip_detail);
        c->skip_detail = strdup(detail);
    }
}

static void sink_error(void *ctx, int code, const char *status, const char *message)
{
    struct call *c = ctx;
    c->inband_code = code ? code : 500;
    snprintf(c->inband_status, sizeof(c->inband_status), "%s", status ? status : "");
    snprintf(c->inband_msg, sizeof(c->inband_msg), "%s", message ? message : "");
}

static int on_element(void *ctx, const char *elem, size_t n)
{
    struct call *c = ctx;
    c->last_elem_ms = gg_mono_ms();
    if (xlate_element(&c->xl, elem, n) != 0)
        GG_WARN("[%s] unparsable upstream element (%zu bytes) skipped", c->request_id, n);
    return 0;
}

/* ---- finishing ------------------------------------------------------------ */

static void release_account(struct call *c)
{
    if (c->acct) {
        pool_release(c->acct);
        c->acct = NULL;
    }
}

static void call_done(struct call *c)
{
    if (c->step == S_DONE)
        return;
    c->step = S_DONE;
    release_account(c);
    active_del(c);
    call_put(c);
}

/* Failure: an HTTP error before any byte, or an error frame in the stream.
 * `param` names the request field at fault (NULL = none). */
static void finish_verr(struct call *c, int status, const char *code, const char *param,
                        int retry_after, const char *kind, const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));
static void finish_verr(struct call *c, int status, const char *code, const char *param,
                        int retry_after, const char *kind, const char *fmt, va_list ap)
{
    struct exch_error e;
    memset(&e, 0, sizeof(e));
    e.status = status;
    e.kind = exch_kind_of_status(status);
    e.code = code;
    e.retry_after = retry_after;
    snprintf(e.param, sizeof(e.param), "%s", param ? param : "");
    vsnprintf(e.message, sizeof(e.message), fmt, ap);
    answer_fail(c, &e, kind);
}

static void finish_err(struct call *c, int status, const char *code,
                       int retry_after, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void finish_err(struct call *c, int status, const char *code,
                       int retry_after, const char *kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    finish_verr(c, status, code, NULL, retry_after, kind, fmt, ap);
    va_end(ap);
}

/* A client error about one content part (400, invalid_request_error). */
static void finish_part_err(struct call *c, const char *param, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void finish_part_err(struct call *c, const char *param, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    finish_verr(c, 400, code, param, 0, "client", fmt, ap);
    va_end(ap);
}

/* ---- transfers ------------------------------------------------------------ */

static void xfer_free(struct xfer *x)
{
    if (!x)
        return;
    if (x->easy) {
        curl_multi_remove_handle(multi, x->easy);
        curl_easy_cleanup(x->easy);
    }
    curl_slist_free_all(x->hdrs);
    curl_slist_free_all(x->resolve);
    free(x->post);
    gg_buf_free(&x->resp);
    free(x);
}

static size_t write_buffered(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    if (!x->status_known) {
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
        x->status_known = true;
    }
    if (x->resp.len + n > x->resp.max)
        n = x->resp.max > x->resp.len ? x->resp.max - x->resp.len : 0;
    gg_buf_add(&x->resp, ptr, n);
    return size * nmemb;
}

/* Fetches and downloads: the whole body, aborting past the buffer's cap. */
static size_t write_capped(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    if (gg_buf_add(&x->resp, ptr, n) != 0) {
        x->too_large = true;
        return 0;
    }
    return n;
}

static size_t write_stream(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    struct call *c = x->call;
    size_t n = size * nmemb;
    if (!x->status_known) {
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
        x->status_known = true;
    }
    if (x->status != 200) {
        if (x->resp.len < ERR_BODY_MAX)
            gg_buf_add(&x->resp, ptr, n > ERR_BODY_MAX - x->resp.len ? ERR_BODY_MAX - x->resp.len : n);
        return n;
    }
    pthread_mutex_lock(&c->mu);
    bool gone = c->conn_gone || c->aborted;
    if (!gone && c->req.stream && c->out.len >= OUT_HIGH_WATER) {
        c->upstream_paused = true;
        c->unpause_posted = false;
        pthread_mutex_unlock(&c->mu);
        return CURL_WRITEFUNC_PAUSE;
    }
    pthread_mutex_unlock(&c->mu);
    if (gone)
        return 0; /* abort the transfer */
    if (answer_complete(c))
        return 0; /* answer complete (stop sequence / max_tokens): cut the transfer */
    int rc = split_feed(&c->sp, ptr, n, on_element, c);
    if (rc != 0) {
        GG_WARN("[%s] upstream stream malformed (%d)", c->request_id, rc);
        return 0;
    }
    return n;
}

static struct xfer *xfer_new(int kind, const char *url, const char *proxy)
{
    struct xfer *x = calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    x->kind = kind;
    x->t0_ms = gg_mono_ms();
    gg_buf_init(&x->resp, 1u << 20);
    x->easy = curl_easy_init();
    if (!x->easy) {
        free(x);
        return NULL;
    }
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)cfg.up_connect_timeout);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, cfg.tls_verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, cfg.tls_verify ? 2L : 0L);
    if (cfg.ca_bundle && *cfg.ca_bundle)
        curl_easy_setopt(e, CURLOPT_CAINFO, cfg.ca_bundle);
    const char *px = proxy && *proxy ? proxy : cfg.proxy;
    if (px && *px)
        curl_easy_setopt(e, CURLOPT_PROXY, px);
    else
        curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_buffered);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    x->hdrs = curl_slist_append(x->hdrs, "user-agent: " UA);
    x->hdrs = curl_slist_append(x->hdrs, "origin: https://business.gemini.google");
    x->hdrs = curl_slist_append(x->hdrs, "referer: https://business.gemini.google/");
    x->hdrs = curl_slist_append(x->hdrs, "accept-language: en-US,en;q=0.9");
    x->hdrs = curl_slist_append(x->hdrs, "accept: */*");
    return x;
}

static void xfer_start(struct xfer *x)
{
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
    if (x->post) {
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->post);
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(x->post));
    }
    curl_multi_add_handle(multi, x->easy);
}

/* The call's current transfer: link both ways and hand it to curl. */
static void start_for(struct call *c, struct xfer *x)
{
    x->call = c;
    c->xfer = x;
    xfer_start(x);
}

static void api_headers(struct xfer *x, const struct account *a)
{
    char h[JWT_MAX + 32];
    snprintf(h, sizeof(h), "authorization: Bearer %s", a->upstream_jwt);
    x->hdrs = curl_slist_append(x->hdrs, h);
    x->hdrs = curl_slist_append(x->hdrs, "content-type: application/json");
    x->hdrs = curl_slist_append(x->hdrs, "x-server-timeout: 1800");
    x->hdrs = curl_slist_append(x->hdrs, "sec-fetch-dest: empty");
    x->hdrs = curl_slist_append(x->hdrs, "sec-fetch-mode: cors");
    x->hdrs = curl_slist_append(x->hdrs, "sec-fetch-site: cross-site");
}

/* Parse a Google error body: {"error":{"code","message","status"}}. */
static void google_error(const struct gg_buf *body, char *status, size_t sn, char *msg, size_t mn)
{
    status[0] = msg[0] = '\0';
    const char *p = body->p ? body->p : "";
    if (strncmp(p, ")]}'", 4) == 0)
        p += 4;
    cJSON *j = cJSON_Parse(p);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *src = e ? e : j;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(src, "status");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(src, "message");
    if (cJSON_IsString(s))
        snprintf(status, sn, "%s", s->valuestring);
    if (cJSON_IsString(m))
        snprintf(msg, mn, "%s", m->valuestring);
    cJSON_Delete(j);
}

/* ---- the state machine ---------------------------------------------------- */

static void step_acquire(struct call *c);
static void step_jwt(struct call *c);
static void step_session(struct call *c);
static void step_stream(struct call *c);
static void step_fetch(struct call *c);
static void step_upload(struct call *c);
static void step_media(struct call *c);
static void step_download(struct call *c);

static void reset_attempt(struct call *c)
{
    split_free(&c->sp);
    split_init(&c->sp, 16u << 20);
    struct xlate_sink sink = {c, sink_text, sink_file, sink_session, sink_state, sink_error};
    xlate_init(&c->xl, &sink);
    c->final_state = NULL;
    c->inband_code = 0;
    c->inband_status[0] = c->inband_msg[0] = '\0';
    free(c->skip_detail);
    c->skip_detail = NULL;
    c->any_text = c->any_file = false;
    c->jwt_retried = c->session_retried = false;
    for (size_t i = 0; i < c->n_gen; i++) {
        free(c->gen[i].session);
        free(c->gen[i].data);
    }
    memset(c->gen, 0, sizeof(c->gen));
    c->n_gen = c->gen_i = 0;
    c->retry_at_ms = 0;
    answer_reset(c);
}

static const char *outcome_error_kind(enum outcome o)
{
    switch (o) {
    case OUT_RATE_LIMIT: return "rate_limit";
    case OUT_EXPIRED: case OUT_FORBIDDEN: case OUT_AUTH: return "auth";
    case OUT_CLIENT: return "client";
    default: return "upstream";
    }
}

/* No account left after at least one failed attempt: answer with the
 * status that matches the last failure. */
static void final_error(struct call *c, enum outcome o, const char *detail)
{
    int ra = 0;
    bool all429 = false;
    pool_recovery(&ra, &all429);
    if (o == OUT_RATE_LIMIT)
        finish_err(c, 429, "rate_limit_exceeded", ra > 0 ? ra : (int)cfg.cooldown_429,
                   "rate_limit", "Upstream quota exhausted on every account tried (%s). Retry later.",
                   detail ? detail : "429");
    else if (o == OUT_NETWORK && detail && strstr(detail, "deadline"))
        finish_err(c, 504, "upstream_timeout", 0, "upstream", "Upstream timed out: %s", detail);
    else if (o == OUT_NETWORK)
        finish_err(c, 502, "upstream_unreachable", 0, "upstream",
                   "Upstream request failed: %s", detail ? detail : "network error");
    else if (o == OUT_EXPIRED || o == OUT_FORBIDDEN || o == OUT_AUTH)
        finish_err(c, 503, "no_available_accounts", ra > 0 ? ra : 30, "auth",
                   "No usable account: the last one tried was rejected upstream (%s).", detail ? detail : "auth");
    else if (o == OUT_EMPTY)
        finish_err(c, 502, "empty_response", 0, "upstream",
                   "The model produced thoughts but no answer on every account tried.");
    else
        finish_err(c, 502, "upstream_error", 0, outcome_error_kind(o),
                   "Upstream failed: %s", detail ? detail : "error");
}

/* Record the failure on the account (unless `report` is false because the
 * same failure was already recorded for it) and try another account if
 * allowed; otherwise answer with the status that matches the failure. */
static void failover_ex(struct call *c, enum outcome o, const char *detail, bool report)
{
    if (c->acct) {
        if (report)
            pool_report(c->acct, o, detail);
        if (c->nex < CALL_MAX_EXCLUDE)
            c->exclude[c->nex++] = c->acct->id;
        release_account(c);
    }
    c->attempts++;
    c->last_outcome = o;
    snprintf(c->last_detail, sizeof(c->last_detail), "%s", detail ? detail : "");
    metrics_failover();
    bool can_retry = !c->content_sent && c->kind != CALL_TEST && c->attempts <= cfg.max_retries &&
                     drain_deadline == 0;
    if (can_retry) {
        GG_INFO("[%s] failover after %s (attempt %d)", c->request_id, detail ? detail : "error", c->attempts);
        free(c->session_name);
        c->session_name = NULL;
        c->continuing = false;
        reset_attempt(c);
        step_acquire(c);
        return;
    }
    if (c->content_sent || c->kind == CALL_TEST) {
        finish_err(c, 502, "upstream_error", 0, outcome_error_kind(o),
                   "Upstream failed: %s", detail ? detail : "error");
        call_done(c);
        return;
    }
    final_error(c, o, detail);
    call_done(c);
}

static void failover(struct call *c, enum outcome o, const char *detail)
{
    failover_ex(c, o, detail, true);
}

static void step_acquire(struct call *c)
{
    c->step = S_ACQUIRE;
    c->att_i = c->n_file_ids = 0;     /* a new attempt uploads again */
    struct account *a = NULL;
    int ra = 0;
    bool all429 = false;
    if (c->forced_account >= 0) {
        a = pool_acquire_id(c->forced_account, true);
        if (!a) {
            finish_err(c, 404, "not_found", 0, "client", "no such account");
            call_done(c);
            return;
        }
    } else if (c->pref_account >= 0 && c->attempts == 0) {
        a = pool_acquire_id(c->pref_account, false);
        if (a) {
            c->continuing = true;
            free(c->session_name);
            c->session_name = c->pref_session ? strdup(c->pref_session) : NULL;
        }
    }
    if (!a)
        a = c->forced_account >= 0 ? NULL : pool_acquire(c->exclude, c->nex, &ra, &all429);
    if (!a) {
        if (c->attempts > 0 && c->last_outcome != OUT_RATE_LIMIT && !all429)
            final_error(c, (enum outcome)c->last_outcome, c->last_detail);
        else if (c->last_outcome == OUT_RATE_LIMIT || all429)
            finish_err(c, 429, "rate_limit_exceeded", ra > 0 ? ra : (int)cfg.cooldown_429,
                       "rate_limit", "Every usable account is rate limited upstream; retry in %d s.",
                       ra > 0 ? ra : (int)cfg.cooldown_429);
        else
            finish_err(c, 503, "no_available_accounts", ra > 0 ? ra : 30, "upstream",
                       "No usable account in the pool (all disabled, expired, cooling down or busy).");
        call_done(c);
        return;
    }
    c->acct = a;
    pthread_mutex_lock(&c->mu);
    c->account_id = a->id;
    snprintf(c->account_name, sizeof(c->account_name), "%s", a->name ? a->name : "");
    pthread_mutex_unlock(&c->mu);
    step_jwt(c);
}

static void oxsrf_finish(struct account *a, bool ok, enum outcome o, const char *detail);

static void oxsrf_start(struct account *a)
{
    struct creds cr;
    if (pool_creds(a, &cr) != 0) {
        oxsrf_finish(a, false, OUT_EXPIRED, "account has no credentials");
        return;
    }
    char url[2048];
    snprintf(url, sizeof(url), "%s/auth/getoxsrf?csesidx=%s", cfg.auth_url, cr.csesidx);
    struct xfer *x = xfer_new(X_OXSRF, url, cr.proxy);
    if (!x) {
        pool_creds_free(&cr);
        oxsrf_finish(a, false, OUT_NETWORK, "out of memory");
        return;
    }
    struct gg_buf ck;
    gg_buf_init(&ck, 32768);
    gg_buf_printf(&ck, "cookie: __Secure-C_SES=%s", cr.secure_c_ses);
    if (cr.host_c_oses && *cr.host_c_oses)
        gg_buf_printf(&ck, "; __Host-C_OSES=%s", cr.host_c_oses);
    x->hdrs = curl_slist_append(x->hdrs, ck.p);
    gg_buf_free(&ck);
    x->hdrs = curl_slist_append(x->hdrs, "sec-fetch-site: same-site");
    x->hdrs = curl_slist_append(x->hdrs, "sec-fetch-mode: cors");
    x->hdrs = curl_slist_append(x->hdrs, "sec-fetch-dest: empty");
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT, (long)(cfg.up_connect_timeout + 30));
    pool_ref(a);
    x->acct = a;
    x->gen = cr.gen;
    snprintf(x->csesidx, sizeof(x->csesidx), "%s", cr.csesidx);
    a->upstream_oxsrf_busy = true;
    pool_creds_free(&cr);
    xfer_start(x);
}

static void step_jwt(struct call *c)
{
    c->step = S_JWT;
    struct account *a = c->acct;
    int64_t now = gg_now_ms();
    if (a->upstream_jwt[0] && a->upstream_jwt_gen == a->cred_gen &&
        a->upstream_jwt_exp_ms - now > JWT_REFRESH_MARGIN_MS) {
        step_session(c);
        return;
    }
    c->waiting_oxsrf = true;
    c->next_waiter = a->upstream_waiters;
    a->upstream_waiters = c;
    if (!a->upstream_oxsrf_busy)
        oxsrf_start(a);
}

static void oxsrf_finish(struct account *a, bool ok, enum outcome o, const char *detail)
{
    a->upstream_oxsrf_busy = false;
    struct call *w = a->upstream_waiters;
    a->upstream_waiters = NULL;
    /* reverse into arrival order */
    struct call *rev = NULL;
    while (w) {
        struct call *n = w->next_waiter;
        w->next_waiter = rev;
        rev = w;
        w = n;
    }
    bool reported = false;
    while (rev) {
        struct call *n = rev->next_waiter;
        rev->next_waiter = NULL;
        rev->waiting_oxsrf = false;
        if (rev->step == S_JWT && rev->acct == a) {
            if (ok) {
                step_session(rev);
            } else {
                if (reported && rev->acct) {
                    /* the account was already penalised once for this getoxsrf */
                    failover_ex(rev, o, detail, false);
                } else {
                    reported = true;
                    failover(rev, o, detail);
                }
            }
        }
        rev = n;
    }
    if (!ok && !reported)
        pool_report(a, o, detail);
}

static void oxsrf_done(struct xfer *x, CURLcode res)
{
    struct account *a = x->acct;
    long st = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &st);
    char detail[200];
    if (res != CURLE_OK) {
        snprintf(detail, sizeof(detail), "getoxsrf: %s", curl_easy_strerror(res));
        oxsrf_finish(a, false, OUT_NETWORK, detail);
        goto out;
    }
    if (st == 302 || st == 301 || st == 303 || st == 307) {
        char *loc = NULL;
        curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &loc);
        if (loc && strstr(loc, "refreshcookies"))
            oxsrf_finish(a, false, OUT_EXPIRED, "getoxsrf redirected to refreshcookies (cookies need refreshing)");
        else
            oxsrf_finish(a, false, OUT_EXPIRED, "getoxsrf redirected (cookies rejected)");
        goto out;
    }
    if (st != 200) {
        char gs[64], gm[160];
        google_error(&x->resp, gs, sizeof(gs), gm, sizeof(gm));
        snprintf(detail, sizeof(detail), "%ld %s%s%s", st, gs[0] ? gs : "", gm[0] ? ": " : "", gm);
        enum outcome o = st == 401 ? OUT_EXPIRED : st == 403 ? OUT_FORBIDDEN : st == 429 ? OUT_RATE_LIMIT
                       : st >= 500 ? OUT_SERVER : OUT_EXPIRED;
        if (st == 401)
            snprintf(detail, sizeof(detail), "getoxsrf 401 %s", gs[0] ? gs : "EXPIRED_SIGN_IN");
        else if (st == 403)
            snprintf(detail, sizeof(detail), "getoxsrf %s", gs[0] ? gs : "Access Restricted");
        else if (st == 429)
            snprintf(detail, sizeof(detail), "%s", gs[0] ? gs : "RESOURCE_EXHAUSTED");
        oxsrf_finish(a, false, o, detail);
        goto out;
    }
    const char *p = x->resp.p ? x->resp.p : "";
    if (strncmp(p, ")]}'", 4) == 0)
        p += 4;
    cJSON *j = cJSON_Parse(p);
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(j, "xsrfToken");
    const cJSON *kid = cJSON_GetObjectItemCaseSensitive(j, "keyId");
    if (!cJSON_IsString(tok) || !cJSON_IsString(kid) || !*tok->valuestring || !*kid->valuestring) {
        cJSON_Delete(j);
        oxsrf_finish(a, false, OUT_EXPIRED, "getoxsrf answer without xsrfToken/keyId (cookies expired)");
        goto out;
    }
    int64_t now_s = gg_now_ms() / 1000;
    int n = jwt_sign(tok->valuestring, kid->valuestring, x->csesidx, now_s, a->upstream_jwt, sizeof(a->upstream_jwt));
    cJSON_Delete(j);
    if (n < 0) {
        a->upstream_jwt[0] = '\0';
        oxsrf_finish(a, false, OUT_EXPIRED, "getoxsrf returned an unusable xsrfToken");
        goto out;
    }
    a->upstream_jwt_exp_ms = (now_s + JWT_TTL_S) * 1000;
    a->upstream_jwt_gen = x->gen;
    oxsrf_finish(a, true, OUT_OK, NULL);
out:
    if (x->acct) {
        x->acct = NULL;
        pool_put(a);
    }
}

static void step_session(struct call *c)
{
    c->step = S_SESSION;
    if (c->session_name) {
        step_upload(c);
        return;
    }
    c->att_i = c->n_file_ids = 0;     /* file ids belong to the old session */
    struct creds cr;
    if (pool_creds(c->acct, &cr) != 0) {
        failover(c, OUT_EXPIRED, "account has no credentials");
        return;
    }
    char url[2048];
    snprintf(url, sizeof(url), "%s/v1alpha/locations/global/widgetCreateSession", cfg.api_url);
    struct xfer *x = xfer_new(X_SESSION, url, cr.proxy);
    if (!x) {
        pool_creds_free(&cr);
        failover(c, OUT_NETWORK, "out of memory");
        return;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "configId", cr.config_id);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(body, "additionalParams"), "token", "-");
    cJSON *sess = cJSON_AddObjectToObject(cJSON_AddObjectToObject(body, "createSessionRequest"), "session");
    cJSON_AddStringToObject(sess, "name", "");
    cJSON_AddStringToObject(sess, "displayName", "");
    x->post = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    pool_creds_free(&cr);
    api_headers(x, c->acct);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT, (long)(cfg.up_connect_timeout + 30));
    if (active_n > FRESH_CONN_ABOVE) {
        /* see step_stream: keep the connection cache out of busy periods */
        curl_easy_setopt(x->easy, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(x->easy, CURLOPT_FORBID_REUSE, 1L);
    }
    start_for(c, x);
}

static void session_done(struct xfer *x, CURLcode res)
{
    struct call *c = x->call;
    c->xfer = NULL;
    long st = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &st);
    char detail[200], gs[64], gm[160];
    if (res != CURLE_OK) {
        snprintf(detail, sizeof(detail), "createSession: %s", curl_easy_strerror(res));
        xfer_free(x);
        failover(c, OUT_NETWORK, detail);
        return;
    }
    if (st != 200) {
        google_error(&x->resp, gs, sizeof(gs), gm, sizeof(gm));
        snprintf(detail, sizeof(detail), "createSession %ld %s", st, gs[0] ? gs : gm);
        xfer_free(x);
        if (st == 401 && !c->jwt_retried) {
            c->jwt_retried = true;
            c->acct->upstream_jwt[0] = '\0';
            step_jwt(c);
            return;
        }
        failover(c, st == 429 ? OUT_RATE_LIMIT : st == 403 ? OUT_FORBIDDEN : st == 401 ? OUT_AUTH
                    : st >= 500 ? OUT_SERVER : OUT_SERVER, detail);
        return;
    }
    cJSON *j = cJSON_Parse(x->resp.p ? x->resp.p : "");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "session");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");
    if (!cJSON_IsString(name) || !*name->valuestring) {
        cJSON_Delete(j);
        xfer_free(x);
        failover(c, OUT_SERVER, "createSession answer without session.name");
        return;
    }
    free(c->session_name);
    c->session_name = strdup(name->valuestring);
    c->continuing = false;
    cJSON_Delete(j);
    xfer_free(x);
    step_upload(c);
}

static void step_stream(struct call *c)
{
    c->step = S_STREAM;
    struct creds cr;
    if (pool_creds(c->acct, &cr) != 0) {
        failover(c, OUT_EXPIRED, "account has no credentials");
        return;
    }
    char url[2048];
    snprintf(url, sizeof(url), "%s/v1alpha/locations/global/widgetStreamAssist", cfg.api_url);
    struct xfer *x = xfer_new(X_STREAM, url, cr.proxy);
    if (!x) {
        pool_creds_free(&cr);
        failover(c, OUT_NETWORK, "out of memory");
        return;
    }
    struct gg_buf q;
    gg_buf_init(&q, 64u << 20);
    if (c->kind == CALL_TEST)
        gg_buf_adds(&q, "Reply with exactly one word: pong");
    else if (c->continuing)
        exch_flatten(&c->req, c->req.first_new, false, &q);
    else
        exch_flatten(&c->req, 0, true, &q);
    if (q.len == 0)
        gg_buf_adds(&q, " ");
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "configId", cr.config_id);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(body, "additionalParams"), "token", "-");
    cJSON *sar = cJSON_AddObjectToObject(body, "streamAssistRequest");
    cJSON_AddStringToObject(sar, "session", c->session_name);
    cJSON *parts = cJSON_AddArrayToObject(cJSON_AddObjectToObject(sar, "query"), "parts");
    cJSON *part = cJSON_CreateObject();
    cJSON_AddStringToObject(part, "text", q.p);
    cJSON_AddItemToArray(parts, part);
    cJSON_AddStringToObject(sar, "filter", "");
    cJSON *fids = cJSON_AddArrayToObject(sar, "fileIds");
    for (size_t i = 0; i < c->n_file_ids; i++)
        cJSON_AddItemToArray(fids, cJSON_CreateString(c->file_ids[i]));
    cJSON_AddStringToObject(sar, "answerGenerationMode", "NORMAL");
    cJSON *tools = cJSON_AddObjectToObject(sar, "toolsSpec");
    unsigned tbits = c->kind == CALL_TEST ? 0 : c->req.model.tools;
    if (tbits & TOOLS_SEARCH)
        cJSON_AddObjectToObject(tools, "webGroundingSpec");
    cJSON_AddStringToObject(tools, "toolRegistry", "default_tool_registry");
    if (tbits & TOOLS_IMAGE)
        cJSON_AddObjectToObject(tools, "imageGenerationSpec");
    if (tbits & TOOLS_VIDEO)
        cJSON_AddObjectToObject(tools, "videoGenerationSpec");
    cJSON_AddStringToObject(sar, "languageCode", cfg.language_code);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(sar, "userMetadata"), "timeZone", cfg.time_zone);
    cJSON_AddStringToObject(sar, "assistSkippingMode", "REQUEST_ASSIST");
    const char *mid = c->req.model.model ? c->req.model.model->upstream_id : NULL;
    if (mid && c->kind != CALL_TEST)
        cJSON_AddStringToObject(cJSON_AddObjectToObject(sar, "assistGenerationConfig"), "modelId", mid);
    x->post = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    gg_buf_free(&q);
    pool_creds_free(&cr);
    if (!x->post) {
        xfer_free(x);
        failover(c, OUT_CLIENT, "out of memory building the request");
        return;
    }
    api_headers(x, c->acct);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, write_stream);
    curl_easy_setopt(x->easy, CURLOPT_BUFFERSIZE, 8192L); /* elements are small; saves 8 KiB a stream */
    if (active_n > FRESH_CONN_ABOVE) {
        /* With thousands of long streams on one host, libcurl 7.88's
         * connection-cache search is O(connections) per transfer (measured:
         * TTFT 9.9 s -> 3.7 s at 5,000 streams).  Long streams gain little
         * from reuse, so above the threshold they get their own connection. */
        curl_easy_setopt(x->easy, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(x->easy, CURLOPT_FORBID_REUSE, 1L);
    }
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
    gg_buf_init(&x->resp, ERR_BODY_MAX);
    c->stream_start_ms = gg_mono_ms();
    c->last_elem_ms = 0;
    start_for(c, x);
}

/* The answer is complete: remember the conversation, send the end. */
static void complete_ok(struct call *c)
{
    if (c->kind == CALL_CHAT && c->session_name && c->acct) {
        char key[65];
        exch_conv_key(c->key_id, &c->req, c->req.n_msgs, c->answer.p ? c->answer.p : "", c->answer.len, key);
        sessions_put(key, c->acct->id, c->session_name,
                     c->req.model.model ? c->req.model.model->id : "gemini-auto");
    }
    answer_finish(c, EXCH_FIN_STOP);
    call_done(c);
}

static bool not_owned(const char *msg)
{
    return msg && strstr(msg, "not owned");
}

/* The two recoverable API failures, each tried once per attempt: a 401
 * refreshes the JWT and repeats the step; a 404 or "not owned" session
 * gets a new session and the full context.  Returns true when a retry
 * was started. */
static bool retry_once(struct call *c, long st, const char *gm)
{
    if (st == 401 && !not_owned(gm) && !c->jwt_retried) {
        c->jwt_retried = true;
        c->acct->upstream_jwt[0] = '\0';
        step_jwt(c);
        return true;
    }
    if ((st == 404 || not_owned(gm)) && !c->session_retried) {
        c->session_retried = true;
        free(c->session_name);
        c->session_name = NULL;
        c->continuing = false;
        step_session(c);
        return true;
    }
    return false;
}

static void stream_done(struct xfer *x, CURLcode res)
{
    struct call *c = x->call;
    c->xfer = NULL;
    long st = x->status_known ? x->status : 0;
    if (!st)
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &st);
    char detail[256], gs[64], gm[160];
    bool gone;
    pthread_mutex_lock(&c->mu);
    gone = c->conn_gone || c->aborted;
    pthread_mutex_unlock(&c->mu);
    if (gone) {
        xfer_free(x);
        pool_report(c->acct, OUT_CLIENT, "client disconnected");
        pthread_mutex_lock(&c->mu);
        c->error_kind = "client_abort";
        c->out_done = true;
        call_wake_locked(c);
        pthread_mutex_unlock(&c->mu);
        answer_usage(c);
        call_done(c);
        return;
    }
    if (answer_complete(c) && st == 200) {
        /* we cut the transfer ourselves: the answer is complete */
        xfer_free(x);
        pool_report(c->acct, OUT_OK, NULL);
        complete_ok(c);
        return;
    }
    if (res != CURLE_OK && st == 200 && c->xl.elements > 0 && split_finish(&c->sp) == SPLIT_COMPLETE)
        res = CURLE_OK; /* body complete; trailing garbage is harmless */
    if (st != 200 && st != 0) {
        google_error(&x->resp, gs, sizeof(gs), gm, sizeof(gm));
        snprintf(detail, sizeof(detail), "%ld %s%s%s", st, gs, gm[0] ? ": " : "", gm);
        xfer_free(x);
        if (retry_once(c, st, gm))
            return;
        enum outcome o = st == 429 ? OUT_RATE_LIMIT : st == 403 ? OUT_FORBIDDEN : st == 401 ? OUT_AUTH
                       : st >= 500 ? OUT_SERVER : st == 404 ? OUT_SERVER : OUT_CLIENT;
        if (o == OUT_CLIENT) {
            if (c->acct)
                pool_report(c->acct, OUT_CLIENT, detail);
            finish_err(c, 502, "upstream_bad_request", 0, "upstream",
                       "Upstream rejected the request: %s", detail);
            call_done(c);
            return;
        }
        if (st == 429)
            snprintf(detail, sizeof(detail), "%s", gs[0] ? gs : "RESOURCE_EXHAUSTED");
        failover(c, o, detail);
        return;
    }
    bool truncated = res != CURLE_OK || split_finish(&c->sp) == SPLIT_TRUNCATED;
    if (res != CURLE_OK)
        snprintf(detail, sizeof(detail), "%s", curl_easy_strerror(res));
    else
        snprintf(detail, sizeof(detail), "upstream stream ended without its closing bracket");
    xfer_free(x);
    if (c->inband_code) {
        bool rl = c->inband_code == 429 || strcmp(c->inband_status, "RESOURCE_EXHAUSTED") == 0;
        snprintf(detail, sizeof(detail), "%d %s%s%s", c->inband_code, c->inband_status,
                 c->inband_msg[0] ? ": " : "", c->inband_msg);
        if (c->content_sent) {
            pool_report(c->acct, rl ? OUT_RATE_LIMIT : OUT_SERVER, detail);
            finish_err(c, rl ? 429 : 502,
                       rl ? "rate_limit_exceeded" : "upstream_error", 0, rl ? "rate_limit" : "upstream",
                       "Upstream error after the answer started: %s", detail);
            call_done(c);
            return;
        }
        failover(c, rl ? OUT_RATE_LIMIT : OUT_SERVER, rl ? (c->inband_status[0] ? c->inband_status : "RESOURCE_EXHAUSTED") : detail);
        return;
    }
    if (truncated) {
        if (c->content_sent) {
            pool_report(c->acct, OUT_NETWORK, detail);
            finish_err(c, 502, "stream_truncated", 0, "truncated",
                       "The upstream stream was cut before the answer was complete (%s).", detail);
            call_done(c);
            return;
        }
        failover(c, OUT_NETWORK, detail);
        return;
    }
    if (c->final_state && (strcmp(c->final_state, "SKIPPED") == 0 || strcmp(c->final_state, "FAILED") == 0) &&
        !c->any_text) {
        char msg[600];
        snprintf(msg, sizeof(msg), "The upstream declined to answer (%s)%s%s.",
                 strcmp(c->final_state, "SKIPPED") == 0 ? "skipped" : "failed",
                 c->skip_detail ? ": " : "", c->skip_detail ? c->skip_detail : "");
        sink_text(c, msg, strlen(msg), false);
        pool_report(c->acct, OUT_OK, NULL);
        answer_finish(c, EXCH_FIN_CONTENT_FILTER);
        call_done(c);
        return;
    }
    if (!c->any_text && !c->any_file) {
        failover(c, OUT_EMPTY, "thoughts but no answer");
        return;
    }
    pool_report(c->acct, OUT_OK, NULL);
    if (c->n_gen && c->kind != CALL_TEST) {
        step_media(c);
        return;
    }
    if (c->kind == CALL_IMAGES) {
        finish_err(c, 502, "no_image_generated", 0, "upstream",
                   "The model answered without generating an image: %.300s", c->answer.p ? c->answer.p : "");
        call_done(c);
        return;
    }
    complete_ok(c);
}

/* ---- attachments: fetch (S_FETCH) and upload (S_UPLOAD) ------------------- */

static struct exch_attachment *next_att(struct call *c, bool want_fetch)
{
    for (; c->att_i < c->req.n_att; c->att_i++) {
        struct exch_attachment *a = &c->req.att[c->att_i];
        if (!a->upload)
            continue;
        if (want_fetch ? (!a->data && a->url) : a->data != NULL)
            return a;
    }
    return NULL;
}

/* resolver thread -> upstream thread (the call reference travels along) */
static void resolved_cb(void *arg, struct media_resolved *res)
{
    struct call *c = arg;
    struct cmd *m = malloc(sizeof(*m));
    if (!m) {
        free(res);
        call_put(c);
        return;
    }
    m->kind = CMD_RESOLVED;
    m->call = c;
    m->res = res;
    m->next = NULL;
    pthread_mutex_lock(&qmu);
    if (qtail)
        qtail->next = m;
    else
        qhead = m;
    qtail = m;
    pthread_mutex_unlock(&qmu);
    wake();
}

/* Resolve the current hop's host off-thread; the answer comes back as
 * CMD_RESOLVED. */
static void fetch_resolve(struct call *c)
{
    struct exch_attachment *a = &c->req.att[c->att_i];
    char host[256], msg[200];
    int port = 0;
    if (media_url_check(c->fetch_url, cfg.fetch_allow_private, host, sizeof(host), &port, NULL,
                        msg, sizeof(msg)) != 0) {
        finish_part_err(c, a->param, "invalid_image_url", "%s", msg);
        call_done(c);
        return;
    }
    pthread_mutex_lock(&c->mu);
    c->refs++;
    pthread_mutex_unlock(&c->mu);
    if (media_resolve_async(host, port, cfg.fetch_allow_private, resolved_cb, c) != 0) {
        call_put(c);
        finish_err(c, 500, NULL, 0, "upstream", "could not start the resolver");
        call_done(c);
    }
}

static void step_fetch(struct call *c)
{
    c->step = S_FETCH;
    struct exch_attachment *a = next_att(c, true);
    if (!a) {
        step_acquire(c);
        return;
    }
    free(c->fetch_url);
    c->fetch_url = strdup(a->url);
    c->fetch_hops = 0;
    if (!c->fetch_url) {
        finish_err(c, 500, NULL, 0, "upstream", "out of memory");
        call_done(c);
        return;
    }
    fetch_resolve(c);
}

/* Every connection of a fetch is checked again at connect time, so the
 * transfer can only reach the address the resolver approved. */
static curl_socket_t fetch_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct xfer *x = ud;
    (void)purpose;
    if (!x->allow_private && media_addr_blocked(&addr->addr)) {
        GG_WARN("fetch: connection to a blocked address refused");
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

static void fetch_resolved(struct call *c, struct media_resolved *res)
{
    struct exch_attachment *a = &c->req.att[c->att_i];
    if (res->rc != 0) {
        finish_part_err(c, a->param, "invalid_image_url", "%s", res->msg);
        call_done(c);
        return;
    }
    struct xfer *x = xfer_new(X_FETCH, c->fetch_url, NULL);
    if (!x) {
        finish_err(c, 500, NULL, 0, "upstream", "out of memory");
        call_done(c);
        return;
    }
    char host[256], pin[400], msg[200];
    int port = 0;
    if (media_url_check(c->fetch_url, true, host, sizeof(host), &port, NULL, msg, sizeof(msg)) == 0) {
        struct in6_addr tmp;
        if (inet_pton(AF_INET, host, &tmp) != 1 && inet_pton(AF_INET6, host, &tmp) != 1) {
            snprintf(pin, sizeof(pin), "%s:%d:%s", host, port, res->addr_text);
            x->resolve = curl_slist_append(NULL, pin);
            curl_easy_setopt(x->easy, CURLOPT_RESOLVE, x->resolve);
        }
    }
    /* a plain client: no upstream headers, no proxy, no shared connections */
    curl_slist_free_all(x->hdrs);
    x->hdrs = curl_slist_append(NULL, "user-agent: " UA);
    x->hdrs = curl_slist_append(x->hdrs, "accept: image/*,application/pdf,*/*;q=0.8");
    curl_easy_setopt(x->easy, CURLOPT_PROXY, "");
    curl_easy_setopt(x->easy, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(x->easy, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(x->easy, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT, (long)cfg.fetch_timeout);
    curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT, (long)(cfg.fetch_timeout < 10 ? cfg.fetch_timeout : 10));
    /* each file up to IMAGE_MAX_BYTES, all fetched files of a call up to
     * twice that (the bytes stay in memory for re-uploads) */
    size_t used = 0, cap = (size_t)cfg.image_max_bytes;
    for (size_t i = 0; i < c->req.n_att; i++)
        used += c->req.att[i].upload && c->req.att[i].url ? c->req.att[i].len : 0;
    if (used + cap > 2 * (size_t)cfg.image_max_bytes)
        cap = used < 2 * (size_t)cfg.image_max_bytes ? 2 * (size_t)cfg.image_max_bytes - used : 0;
    curl_easy_setopt(x->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cap);
    curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETFUNCTION, fetch_open_socket);
    curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, write_capped);
    gg_buf_free(&x->resp);
    gg_buf_init(&x->resp, cap);
    x->allow_private = cfg.fetch_allow_private;
    start_for(c, x);
}

static void fetch_done(struct xfer *x, CURLcode res)
{
    struct call *c = x->call;
    struct exch_attachment *a = &c->req.att[c->att_i];
    c->xfer = NULL;
    long st = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &st);
    char msg[300];
    if (x->too_large || res == CURLE_FILESIZE_EXCEEDED) {
        xfer_free(x);
        finish_part_err(c, a->param, "file_too_large",
                        "The file at the URL is larger than the limit (%lld bytes per file, twice that per request).",
                        (long long)cfg.image_max_bytes);
        call_done(c);
        return;
    }
    if (res != CURLE_OK) {
        snprintf(msg, sizeof(msg), "The image URL could not be fetched: %s.", curl_easy_strerror(res));
        xfer_free(x);
        finish_part_err(c, a->param, "invalid_image_url", "%s", msg);
        call_done(c);
        return;
    }
    if (st >= 300 && st < 400) {
        char *loc = NULL;
        curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &loc);
        char *next = NULL;
        int rc = loc ? media_url_check(loc, cfg.fetch_allow_private, NULL, 0, NULL, &next, msg, sizeof(msg)) : -1;
        xfer_free(x);
        if (!loc)
            snprintf(msg, sizeof(msg), "The image URL redirected without a location.");
        else if (rc == 0 && ++c->fetch_hops > FETCH_MAX_HOPS)
            snprintf(msg, sizeof(msg), "The image URL redirected more than %d times.", FETCH_MAX_HOPS);
        if (rc != 0 || c->fetch_hops > FETCH_MAX_HOPS) {
            free(next);
            finish_part_err(c, a->param, "invalid_image_url", "%s", msg);
            call_done(c);
            return;
        }
        free(c->fetch_url);
        c->fetch_url = next;
        fetch_resolve(c);
        return;
    }
    if (st < 200 || st >= 300) {
        xfer_free(x);
        finish_part_err(c, a->param, "invalid_image_url", "The image URL could not be fetched: HTTP %ld.", st);
        call_done(c);
        return;
    }
    char *ct = NULL, mime[128];
    curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
    if (x->resp.len == 0) {
        xfer_free(x);
        finish_part_err(c, a->param, "invalid_image_url", "The image URL returned an empty body.");
        call_done(c);
        return;
    }
    if (media_type_of_fetch(ct, (const unsigned char *)x->resp.p, x->resp.len, c->fetch_url, mime, sizeof(mime),
                            msg, sizeof(msg)) != 0) {
        xfer_free(x);
        finish_part_err(c, a->param, "unsupported_file_type", "%s", msg);
        call_done(c);
        return;
    }
    free(a->mime);
    a->mime = strdup(mime);
    a->data = (unsigned char *)gg_buf_steal(&x->resp, &a->len);
    GG_DEBUG("[%s] fetched %s: %zu bytes %s in %lld ms", c->request_id, a->param, a->len, mime,
             (long long)(gg_mono_ms() - x->t0_ms));
    xfer_free(x);
    if (!a->mime || !a->data) {
        finish_err(c, 500, NULL, 0, "upstream", "out of memory");
        call_done(c);
        return;
    }
    c->att_i++;
    step_fetch(c);
}

/* The addContextFileRequest body, base64 written straight into it. */
static char *upload_body(const char *config_id, const char *session, const struct exch_attachment *a)
{
    struct gg_buf h;
    gg_buf_init(&h, 64 * 1024);
    char fname[160];
    if (a->filename && *a->filename) {
        snprintf(fname, sizeof(fname), "%s", a->filename);
    } else {
        char hex[7];
        gg_random_hex(hex, 3);
        snprintf(fname, sizeof(fname), "upload_%lld_%s.%s", (long long)(gg_now_ms() / 1000), hex,
                 media_ext(a->mime));
    }
    gg_buf_adds(&h, "{\"configId\":");
    gg_buf_add_json_str(&h, config_id, strlen(config_id));
    gg_buf_adds(&h, ",\"additionalParams\":{\"token\":\"-\"},\"addContextFileRequest\":{\"name\":");
    gg_buf_add_json_str(&h, session, strlen(session));
    gg_buf_adds(&h, ",\"fileName\":");
    gg_buf_add_json_str(&h, fname, strlen(fname));
    gg_buf_adds(&h, ",\"mimeType\":");
    gg_buf_add_json_str(&h, a->mime, strlen(a->mime));
    int rc = gg_buf_adds(&h, ",\"fileContents\":\"");
    char *out = rc == 0 ? malloc(h.len + gg_b64_enc_len(a->len) + 4) : NULL;
    if (out) {
        memcpy(out, h.p, h.len);
        size_t o = h.len + gg_b64_encode(a->data, a->len, out + h.len);
        memcpy(out + o, "\"}}", 4);
    }
    gg_buf_free(&h);
    return out;
}

static void step_upload(struct call *c)
{
    c->step = S_UPLOAD;
    struct exch_attachment *a = c->kind == CALL_TEST ? NULL : next_att(c, false);
    if (!a || c->n_file_ids >= CALL_MAX_UPLOADS) {
        step_stream(c);
        return;
    }
    struct creds cr;
    if (pool_creds(c->acct, &cr) != 0) {
        failover(c, OUT_EXPIRED, "account has no credentials");
        return;
    }
    char url[2048];
    snprintf(url, sizeof(url), "%s/v1alpha/locations/global/widgetAddContextFile", cfg.api_url);
    struct xfer *x = xfer_new(X_UPLOAD, url, cr.proxy);
    if (x)
        x->post = upload_body(cr.config_id, c->session_name, a);
    pool_creds_free(&cr);
    if (!x || !x->post) {
        xfer_free(x);
        finish_err(c, 500, NULL, 0, "upstream", "out of memory building the upload");
        call_done(c);
        return;
    }
    api_headers(x, c->acct);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT, (long)UPLOAD_TIMEOUT_S);
    start_for(c, x);
}

static void upload_done(struct xfer *x, CURLcode res)
{
    struct call *c = x->call;
    struct exch_attachment *a = &c->req.att[c->att_i];
    c->xfer = NULL;
    long st = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &st);
    char detail[300], gs[64], gm[200];
    if (res != CURLE_OK) {
        snprintf(detail, sizeof(detail), "addContextFile: %s", curl_easy_strerror(res));
        xfer_free(x);
        failover(c, OUT_NETWORK, detail);
        return;
    }
    if (st != 200) {
        google_error(&x->resp, gs, sizeof(gs), gm, sizeof(gm));
        snprintf(detail, sizeof(detail), "addContextFile %ld %s%s%s", st, gs, gm[0] ? ": " : "", gm);
        xfer_free(x);
        if (st == 400) {
            /* the file itself was refused: the client's problem, no penalty */
            pool_report(c->acct, OUT_CLIENT, detail);
            bool unsupported = strstr(gm, "Unsupported file type") != NULL;
            finish_part_err(c, a->param, unsupported ? "unsupported_file_type" : "invalid_value",
                            "%s%s", unsupported ? "" : "The upstream rejected the attachment: ",
                            gm[0] ? gm : "400");
            call_done(c);
            return;
        }
        if (retry_once(c, st, gm))
            return;
        failover(c, st == 429 ? OUT_RATE_LIMIT : st == 403 ? OUT_FORBIDDEN : st == 401 ? OUT_AUTH : OUT_SERVER,
                 detail);
        return;
    }
    cJSON *j = cJSON_Parse(x->resp.p ? x->resp.p : "");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "addContextFileResponse");
    const cJSON *fid = cJSON_GetObjectItemCaseSensitive(r, "fileId");
    if (!cJSON_IsString(fid) || !*fid->valuestring || strlen(fid->valuestring) >= sizeof(c->file_ids[0])) {
        cJSON_Delete(j);
        xfer_free(x);
        failover(c, OUT_SERVER, "addContextFile answer without fileId");
        return;
    }
    snprintf(c->file_ids[c->n_file_ids++], sizeof(c->file_ids[0]), "%s", fid->valuestring);
    GG_DEBUG("[%s] uploaded %s (%zu bytes, %s) as %s in %lld ms", c->request_id, a->param, a->len, a->mime,
             fid->valuestring, (long long)(gg_mono_ms() - x->t0_ms));
    cJSON_Delete(j);
    xfer_free(x);
    c->att_i++;
    step_upload(c);
}

/* ---- generated media (S_MEDIA) ---------------------------------------------- */

static void step_media(struct call *c)
{
    c->step = S_MEDIA;
    c->gen_i = 0;
    struct creds cr;
    if (pool_creds(c->acct, &cr) != 0) {
        step_download(c);
        return;
    }
    char url[2048];
    snprintf(url, sizeof(url), "%s/v1alpha/locations/global/widgetListSessionFileMetadata", cfg.api_url);
    struct xfer *x = xfer_new(X_LIST, url, cr.proxy);
    if (!x) {
        pool_creds_free(&cr);
        step_download(c);
        return;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "configId", cr.config_id);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(body, "additionalParams"), "token", "-");
    cJSON *lr = cJSON_AddObjectToObject(body, "listSessionFileMetadataRequest");
    cJSON_AddStringToObject(lr, "name", c->session_name ? c->session_name : "");
    cJSON_AddStringToObject(lr, "filter", "file_origin_type = AI_GENERATED");
    x->post = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    pool_creds_free(&cr);
    if (!x->post) {
        xfer_free(x);
        step_download(c);
        return;
    }
    api_headers(x, c->acct);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT, (long)LIST_TIMEOUT_S);
    start_for(c, x);
}

/* Metadata gives each file's exact session path and type; without it the
 * created session name and the stream's type are used. */
static void list_done(struct xfer *x, CURLcode res)
{
    struct call *c = x->call;
    c->xfer = NULL;
    long st = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &st);
    if (res != CURLE_OK || st != 200) {
        GG_WARN("[%s] listSessionFileMetadata failed (%ld %s); downloading with the stream's data",
                c->request_id, st, res != CURLE_OK ? curl_easy_strerror(res) : "");
    } else {
        cJSON *j = cJSON_Parse(x->resp.p ? x->resp.p : "");
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "listSessionFileMetadataResponse");
        const cJSON *md;
        cJSON_ArrayForEach(md, cJSON_GetObjectItemCaseSensitive(r, "fileMetadata")) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(md, "fileId");
            const cJSON *sess = cJSON_GetObjectItemCaseSensitive(md, "session");
            const cJSON *mt = cJSON_GetObjectItemCaseSensitive(md, "mimeType");
            for (size_t i = 0; cJSON_IsString(id) && i < c->n_gen; i++) {
                struct gen_file *g = &c->gen[i];
                if (strcmp(g->id, id->valuestring) != 0)
                    continue;
                if (cJSON_IsString(sess) && *sess->valuestring && !g->session)
                    g->session = strdup(sess->valuestring);
                if (cJSON_IsString(mt) && *mt->valuestring)
                    media_mime_norm(mt->valuestring, strlen(mt->valuestring), g->mime, sizeof(g->mime));
            }
        }
        cJSON_Delete(j);
    }
    xfer_free(x);
    step_download(c);
}

static void media_finish(struct call *c);

static void step_download(struct call *c)
{
    c->step = S_MEDIA;
    while (c->gen_i < c->n_gen && (c->gen[c->gen_i].data || c->gen[c->gen_i].failed))
        c->gen_i++;
    if (c->gen_i >= c->n_gen) {
        media_finish(c);
        return;
    }
    struct gen_file *g = &c->gen[c->gen_i];
    g->tries++;
    struct creds cr;
    if (pool_creds(c->acct, &cr) != 0) {
        g->failed = true;
        step_download(c);
        return;
    }
    char *eid = curl_easy_escape(NULL, g->id, 0);
    char url[2048];
    /* protocol doc §3.5 form A: raw bytes, possibly after a redirect */
    snprintf(url, sizeof(url), "%s/v1alpha/%s:downloadFile?fileId=%s&alt=media", cfg.api_url,
             g->session ? g->session : c->session_name, eid ? eid : "");
    curl_free(eid);
    struct xfer *x = xfer_new(X_DOWNLOAD, url, cr.proxy);
    pool_creds_free(&cr);
    if (!x) {
        g->failed = true;
        step_download(c);
        return;
    }
    api_headers(x, c->acct);
    gg_buf_free(&x->resp);
    gg_buf_init(&x->resp, DOWNLOAD_MAX);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, write_capped);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT, (long)DOWNLOAD_TIMEOUT_S);
    curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(x->easy, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(x->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    start_for(c, x);
}

static void download_done(struct xfer *x, CURLcode res)
{
    struct call *c = x->call;
    struct gen_file *g = &c->gen[c->gen_i];
    c->xfer = NULL;
    long st = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &st);
    if (res == CURLE_OK && st == 200 && x->resp.len > 0) {
        /* some forms answer with base64 text of the file (§3.5) */
        const char *p = x->resp.p;
        if (x->resp.len > 8 && (strncmp(p, "iVBORw0KGgo", 11) == 0 || strncmp(p, "/9j/", 4) == 0)) {
            unsigned char *raw = malloc(gg_b64_dec_len(x->resp.len) + 1);
            ssize_t n = raw ? gg_b64_decode(p, x->resp.len, raw) : -1;
            if (n > 0) {
                g->data = raw;
                g->len = (size_t)n;
            } else {
                free(raw);
            }
        }
        if (!g->data)
            g->data = (unsigned char *)gg_buf_steal(&x->resp, &g->len);
        GG_DEBUG("[%s] downloaded %s: %zu bytes in %lld ms (attempt %d)", c->request_id, g->id, g->len,
                 (long long)(gg_mono_ms() - x->t0_ms), g->tries);
        xfer_free(x);
        c->gen_i++;
        step_download(c);
        return;
    }
    GG_WARN("[%s] download of %s failed (attempt %d/%d): %ld %s", c->request_id, g->id, g->tries,
            DOWNLOAD_ATTEMPTS, st, res != CURLE_OK ? curl_easy_strerror(res) : "");
    xfer_free(x);
    if (g->tries < DOWNLOAD_ATTEMPTS) {
        c->retry_at_ms = gg_mono_ms() + ((int64_t)DOWNLOAD_BACKOFF_MS << (g->tries - 1));
        return;   /* tick() starts the next attempt */
    }
    g->failed = true;
    c->gen_i++;
    step_download(c);
}

/* All downloads settled: images into the answer (chat) or the images API
 * body, then the normal end. */
static void media_finish(struct call *c)
{
    size_t ok = 0, failed = 0;
    for (size_t i = 0; i < c->n_gen; i++) {
        if (c->gen[i].data)
            ok++;
        else
            failed++;
    }
    if (ok == 0 && (c->kind == CALL_IMAGES || !c->any_text)) {
        pool_report(c->acct, OUT_SERVER, "generated files could not be downloaded");
        finish_err(c, 502, "image_download_failed", 0, "upstream",
                   "The model generated %zu file(s), but none could be downloaded from the upstream.", c->n_gen);
        call_done(c);
        return;
    }
    if (failed)
        GG_WARN("[%s] %zu of %zu generated files could not be downloaded", c->request_id, failed, c->n_gen);
    answer_files(c);
    complete_ok(c);
}

/* ---- commands, ticks, loop ------------------------------------------------ */

static void cancel_call(struct call *c)
{
    if (c->step == S_DONE)
        return;
    if (c->waiting_oxsrf && c->acct) {
        struct call **pp = (struct call **)&c->acct->upstream_waiters;
        while (*pp) {
            if (*pp == c) {
                *pp = c->next_waiter;
                break;
            }
            pp = &(*pp)->next_waiter;
        }
        c->waiting_oxsrf = false;
    }
    if (c->xfer) {
        xfer_free(c->xfer);
        c->xfer = NULL;
    }
    if (c->acct)
        pool_report(c->acct, OUT_CLIENT, "client disconnected");
    pthread_mutex_lock(&c->mu);
    if (!c->error_kind)
        c->error_kind = "client_abort";
    c->out_done = true;
    c->aborted = true;
    call_wake_locked(c);
    pthread_mutex_unlock(&c->mu);
    answer_usage(c);
    call_done(c);
}

static void drain_commands(void)
{
    pthread_mutex_lock(&qmu);
    struct cmd *m = qhead;
    qhead = qtail = NULL;
    pthread_mutex_unlock(&qmu);
    while (m) {
        struct cmd *n = m->next;
        struct call *c = m->call;
        switch (m->kind) {
        case CMD_SUBMIT:
            active_add(c);
            reset_attempt(c);
            c->last_out_ms = gg_mono_ms();
            if (drain_deadline) {
                finish_err(c, 503, "shutting_down", 5, "upstream", "The gateway is shutting down.");
                call_done(c);
            } else {
                c->att_i = 0;
                step_fetch(c);
            }
            break;
        case CMD_RESOLVED:
            if (c->step == S_FETCH && !c->xfer)
                fetch_resolved(c, m->res);
            free(m->res);
            call_put(c);
            break;
        case CMD_CANCEL:
            cancel_call(c);
            call_put(c);
            break;
        case CMD_UNPAUSE: {
            pthread_mutex_lock(&c->mu);
            bool do_it = c->upstream_paused && c->step == S_STREAM;
            c->upstream_paused = false;
            c->unpause_posted = false;
            pthread_mutex_unlock(&c->mu);
            if (do_it && c->xfer)
                curl_easy_pause(((struct xfer *)c->xfer)->easy, CURLPAUSE_CONT);
            call_put(c);
            break;
        }
        }
        free(m);
        m = n;
    }
}

static void drain_done(void)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct xfer *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        CURLcode res = msg->data.result;
        if (!x)
            continue;
        switch (x->kind) {
        case X_OXSRF:
            oxsrf_done(x, res);
            xfer_free(x);
            break;
        case X_SESSION:
            session_done(x, res);
            break;
        case X_STREAM:
            stream_done(x, res);
            break;
        case X_FETCH:
            fetch_done(x, res);
            break;
        case X_UPLOAD:
            upload_done(x, res);
            break;
        case X_LIST:
            list_done(x, res);
            break;
        case X_DOWNLOAD:
            download_done(x, res);
            break;
        }
    }
}

static void tick(void)
{
    int64_t now = gg_mono_ms();
    /* collect client fds of suspended connections for a hang-up check */
    static struct pollfd *pfd;
    static struct call **pc;
    static size_t pcap;
    size_t np = 0;
    for (struct call *c = active_head, *next; c; c = next) {
        next = c->act_next;
        /* keep-alive pings for streams */
        /* (none while fetching: a bad URL still gets its 400) */
        if (c->req.stream && cfg.ping_interval > 0 && c->kind == CALL_CHAT && c->step != S_FETCH &&
            now - c->last_out_ms >= cfg.ping_interval * 1000)
            answer_ping(c);
        /* download back-off */
        if (c->step == S_MEDIA && !c->xfer && c->retry_at_ms && now >= c->retry_at_ms) {
            c->retry_at_ms = 0;
            step_download(c);
            continue;
        }
        /* deadlines */
        if (c->step == S_STREAM) {
            const char *why = NULL;
            if (c->last_elem_ms == 0 && now - c->stream_start_ms > cfg.up_first_byte_timeout * 1000)
                why = "no upstream data before the first-byte deadline";
            else if (c->last_elem_ms && now - c->last_elem_ms > cfg.up_idle_timeout * 1000)
                why = "upstream idle too long between elements";
            else if (now - c->stream_start_ms > cfg.up_total_timeout * 1000)
                why = "upstream exceeded the total deadline";
            if (why) {
                if (c->xfer) {
                    xfer_free(c->xfer);
                    c->xfer = NULL;
                }
                if (c->content_sent) {
                    pool_report(c->acct, OUT_NETWORK, why);
                    finish_err(c, 504, "upstream_timeout", 0, "upstream", "%s", why);
                    call_done(c);
                } else {
                    failover(c, OUT_NETWORK, why);
                }
                continue;
            }
        }
        if (drain_deadline && gg_now_ms() > drain_deadline) {
            if (c->xfer) {
                xfer_free(c->xfer);
                c->xfer = NULL;
            }
            if (c->acct)
                pool_report(c->acct, OUT_CLIENT, "gateway shutdown");
            finish_err(c, 503, "shutting_down", 5, "upstream",
                       "The gateway is shutting down; the stream was closed.");
            call_done(c);
            continue;
        }
        pthread_mutex_lock(&c->mu);
        int fd = c->suspended && !c->conn_gone ? c->client_fd : -1;
        pthread_mutex_unlock(&c->mu);
        if (fd >= 0) {
            if (np == pcap) {
                size_t nc = pcap ? pcap * 2 : 256;
                struct pollfd *a = realloc(pfd, nc * sizeof(*pfd));
                struct call **b = a ? realloc(pc, nc * sizeof(*pc)) : NULL;
                if (a) pfd = a;
                if (b) pc = b;
                if (!a || !b)
                    continue;
                pcap = nc;
            }
            pfd[np].fd = fd;
            pfd[np].events = POLLRDHUP;
            pfd[np].revents = 0;
            pc[np++] = c;
        }
    }
    if (np && poll(pfd, np, 0) > 0) {
        for (size_t i = 0; i < np; i++) {
            if (pfd[i].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
                struct call *c = pc[i];
                GG_DEBUG("[%s] client hung up", c->request_id);
                cancel_call(c);
            }
        }
    }
}

/* ---- event loop: curl's socket API on one epoll set ---------------------- */

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)e; (void)userp; (void)socketp;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(ep, EPOLL_CTL_DEL, s, NULL);   /* may already be closed */
        return 0;
    }
    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    ev.data.fd = s;
    if (epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev) != 0 && errno == ENOENT)
        epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
    return 0;
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
    (void)m; (void)userp;
    curl_deadline = timeout_ms < 0 ? -1 : gg_mono_ms() + timeout_ms;
    return 0;
}

static void *thread_main(void *arg)
{
    (void)arg;
    int64_t last_tick = 0;
    struct epoll_event evs[256];
    while (!stop_flag) {
        int64_t now = gg_mono_ms();
        int64_t wait = 60000;
        if (curl_deadline >= 0)
            wait = curl_deadline > now ? curl_deadline - now : 0;
        if (active_n) {
            int64_t t = last_tick + TICK_MS - now;
            if (t < wait)
                wait = t > 0 ? t : 0;
        }
        int n = epoll_wait(ep, evs, 256, (int)wait);
        int running = 0;
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == wake_fd) {
                uint64_t v;
                ssize_t r = read(wake_fd, &v, sizeof(v));
                (void)r;
                continue;
            }
            int flags = 0;
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
                flags |= CURL_CSELECT_IN;
            if (evs[i].events & EPOLLOUT)
                flags |= CURL_CSELECT_OUT;
            if (evs[i].events & EPOLLERR)
                flags |= CURL_CSELECT_ERR;
            curl_multi_socket_action(multi, fd, flags, &running);
        }
        now = gg_mono_ms();
        if (curl_deadline >= 0 && now >= curl_deadline) {
            curl_deadline = -1;
            curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        drain_done();
        drain_commands();
        if (active_n && now - last_tick >= TICK_MS) {
            tick();
            last_tick = now;
        }
        drain_done();
    }
    /* shutdown: end whatever is left */
    drain_commands();
    while (active_head) {
        struct call *c = active_head;
        if (c->xfer) {
            xfer_free(c->xfer);
            c->xfer = NULL;
        }
        if (c->acct && c->waiting_oxsrf)
            c->acct->upstream_waiters = NULL;
        finish_err(c, 503, "shutting_down", 5, "upstream", "The gateway is shutting down.");
        call_done(c);
    }
    return NULL;
}

int upstream_start(void)
{
    multi = curl_multi_init();
    if (!multi)
        return -1;
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    /* idle connections kept for reuse: bounded, or idle sockets pile up next
     * to thousands of live streams and exhaust the descriptor limit */
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 256L);
    ep = epoll_create1(EPOLL_CLOEXEC);
    wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ep < 0 || wake_fd < 0) {
        curl_multi_cleanup(multi);
        multi = NULL;
        return -1;
    }
    struct epoll_event wev;
    memset(&wev, 0, sizeof(wev));
    wev.events = EPOLLIN;
    wev.data.fd = wake_fd;
    epoll_ctl(ep, EPOLL_CTL_ADD, wake_fd, &wev);
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    if (pthread_create(&thr, NULL, thread_main, NULL) != 0) {
        curl_multi_cleanup(multi);
        multi = NULL;
        return -1;
    }
    return 0;
}

void upstream_drain(int64_t deadline_ms)
{
    drain_deadline = deadline_ms;
    wake();
}

void upstream_stop(void)
{
    if (!multi)
        return;
    stop_flag = 1;
    wake();
    pthread_join(thr, NULL);
    curl_multi_cleanup(multi);
    multi = NULL;
    close(ep);
    close(wake_fd);
    ep = wake_fd = -1;
    answer_cleanup();
    pthread_mutex_lock(&qmu);
    while (qhead) {
        struct cmd *n = qhead->next;
        free(qhead);
        qhead = n;
    }
    qtail = NULL;
    pthread_mutex_unlock(&qmu);
}
