/* machine.c -- see up.h: the per-call state machine.
 *
 * Call steps (upstream thread only):
 *   S_FETCH    http(s) attachments: resolve on a helper thread, check every
 *              address, fetch pinned to the checked one (attach.c)
 *   S_ACQUIRE  pick an account (conversation's account first, then pool)
 *   S_JWT      wait for the account's getoxsrf (oxsrf.c, shared by its calls)
 *   S_SESSION  widgetCreateSession (skipped for a continuing conversation)
 *   S_UPLOAD   widgetAddContextFile per attachment of the current turn into
 *              the attempt's session (again after a failover: new session)
 *   S_STREAM   widgetStreamAssist, splitter -> translator -> answer.c
 *   S_MEDIA    generated files: list, download, then the answer (genmedia.c)
 *   S_DONE     output finished, reference dropped
 * Failover happens only while no answer content has reached the client.
 */
#include "up.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acct_tags.h"
#include "answer.h"
#include "gg_log.h"
#include "gg_time.h"
#include "gg_util.h"
#include "flatten.h"
#include "metrics.h"
#include "models.h"
#include "sessions.h"
#include "toolcall.h"

/* ---- finishing ------------------------------------------------------------ */

void up_release_account(struct call *c)
{
    if (c->acct) {
        pool_release(c->acct);
        c->acct = NULL;
    }
}

void up_call_done(struct call *c)
{
    if (c->step == S_DONE)
        return;
    c->step = S_DONE;
    answer_release(c);          /* not held past its end (answer.h) */
    free(c->stream_session);
    c->stream_session = NULL;
    up_release_account(c);
    up_active_del(c);
    call_put(c);
}

/* Failure: an HTTP error before any byte, or the dialect's error frame in
 * the stream (answer_fail).  `param` names the request field at fault
 * (NULL = none). */
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
    e.retryable = exch_status_retryable(status);
    e.code = code;
    e.retry_after = retry_after;
    snprintf(e.param, sizeof(e.param), "%s", param ? param : "");
    vsnprintf(e.message, sizeof(e.message), fmt, ap);
    answer_fail(c, &e, kind);
}

void up_finish_err(struct call *c, int status, const char *code, int retry_after, const char *kind,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    finish_verr(c, status, code, NULL, retry_after, kind, fmt, ap);
    va_end(ap);
}

/* A client error about one content part (400). */
void up_finish_part_err(struct call *c, const char *param, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    finish_verr(c, 400, code, param, 0, "client", fmt, ap);
    va_end(ap);
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
    int rc = split_feed(&c->sp, ptr, n, up_on_element, c);
    if (rc != 0) {
        GG_WARN("[%s] upstream stream malformed (%d)", c->request_id, rc);
        return 0;
    }
    return n;
}

void up_reset_attempt(struct call *c)
{
    split_free(&c->sp);
    split_init(&c->sp, 16u << 20);
    up_sinks_init(c);
    free(c->stream_session);
    c->stream_session = NULL;
    c->list_retried = false;
    c->poll_until_ms = 0;
    c->final_state = NULL;
    c->inband_code = 0;
    c->inband_status[0] = c->inband_msg[0] = '\0';
    free(c->skip_detail);
    c->skip_detail = NULL;
    c->any_text = c->any_file = false;
    c->jwt_retried = c->session_retried = false;
    for (size_t i = 0; c->gen && i < c->n_gen; i++) {
        free(c->gen[i].session);
        free(c->gen[i].data);
    }
    if (c->gen)
        memset(c->gen, 0, CALL_MAX_GEN * sizeof(*c->gen));
    c->n_gen = c->gen_i = 0;
    c->retry_at_ms = 0;
    answer_reset(c);
}

enum work_kind up_work_kind(const struct call *c)
{
    unsigned t = c->kind == CALL_TEST ? 0 : c->req.model.tools;
    if (t & TOOLS_VIDEO)
        return WK_VIDEO;
    if ((t & TOOLS_IMAGE) || c->kind == CALL_IMAGES)
        return WK_IMAGE;
    return WK_TEXT;
}

static const char *outcome_error_kind(enum outcome o)
{
    switch (o) {
    case OUT_RATE_LIMIT: case OUT_OVERLOADED: return "rate_limit";
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
    pool_recovery_kind(up_work_kind(c), &ra, &all429);
    if (o == OUT_RATE_LIMIT || o == OUT_OVERLOADED)
        up_finish_err(c, 429, "rate_limit_exceeded", ra > 0 ? ra : (int)cfg.cooldown_429,
                   "rate_limit", o == OUT_OVERLOADED
                   ? "The upstream is overloaded on every account tried (%s). Retry later."
                   : "Upstream quota exhausted on every account tried (%s). Retry later.",
                   detail ? detail : "429");
    else if (o == OUT_NETWORK && detail && strstr(detail, "deadline"))
        up_finish_err(c, 504, "upstream_timeout", 0, "upstream", "Upstream timed out: %s", detail);
    else if (o == OUT_NETWORK)
        up_finish_err(c, 502, "upstream_unreachable", 0, "upstream",
                   "Upstream request failed: %s", detail ? detail : "network error");
    else if (o == OUT_EXPIRED || o == OUT_FORBIDDEN || o == OUT_AUTH)
        up_finish_err(c, 503, "no_available_accounts", ra > 0 ? ra : 30, "auth",
                   "No usable account: the last one tried was rejected upstream (%s).", detail ? detail : "auth");
    else if (o == OUT_EMPTY)
        up_finish_err(c, 502, "empty_response", 0, "upstream",
                   "The model produced thoughts but no answer on every account tried.");
    else
        up_finish_err(c, 502, "upstream_error", 0, outcome_error_kind(o),
                   "Upstream failed: %s", detail ? detail : "error");
}

/* Record the failure on the account (unless `report` is false because the
 * same failure was already recorded for it) and try another account if
 * allowed; otherwise answer with the status that matches the failure. */
void up_failover_ex(struct call *c, enum outcome o, const char *detail, bool report)
{
    if (c->acct) {
        if (report)
            pool_report_kind(c->acct, up_work_kind(c), o, detail);
        if (c->nex < CALL_MAX_EXCLUDE)
            c->exclude[c->nex++] = c->acct->id;
        up_release_account(c);
    }
    c->attempts++;
    c->last_outcome = o;
    snprintf(c->last_detail, sizeof(c->last_detail), "%s", detail ? detail : "");
    metrics_failover();
    bool can_retry = !c->content_sent && c->kind != CALL_TEST && c->attempts <= cfg.max_retries &&
                     !up_draining();
    if (can_retry) {
        GG_INFO("[%s] failover after %s (attempt %d)", c->request_id, detail ? detail : "error", c->attempts);
        free(c->session_name);
        c->session_name = NULL;
        c->continuing = false;
        up_reset_attempt(c);
        up_step_acquire(c);
        return;
    }
    if (c->content_sent || c->kind == CALL_TEST) {
        up_finish_err(c, 502, "upstream_error", 0, outcome_error_kind(o),
                   "Upstream failed: %s", detail ? detail : "error");
        up_call_done(c);
        return;
    }
    final_error(c, o, detail);
    up_call_done(c);
}

void up_failover(struct call *c, enum outcome o, const char *detail)
{
    up_failover_ex(c, o, detail, true);
}

static void model_404(struct call *c, const char *id, const char *why)
{
    struct exch_error e;
    memset(&e, 0, sizeof(e));
    e.status = 404;
    e.kind = EXCH_ERR_NOT_FOUND;
    e.code = "model_not_found";
    snprintf(e.param, sizeof(e.param), "model");
    snprintf(e.message, sizeof(e.message),
             "The model '%s' is not available upstream (%.200s). It is retried after %lld s; choose another model.",
             c->req.model.name[0] ? c->req.model.name : id, why && *why ? why : "not found or not supported",
             (long long)(models_unavailable_left(id) > 0 ? models_unavailable_left(id) : cfg.model_unavailable_ttl));
    answer_fail(c, &e, "client");
}

/* A model marked unavailable answers 404 at once (no upstream call). */
static bool model_unavailable(struct call *c)
{
    const struct model_info *m = c->kind == CALL_TEST ? NULL : c->req.model.model;
    if (!m || models_unavailable_left(m->id) <= 0)
        return false;
    char why[160];
    models_unavailable_reason(m->id, why, sizeof(why));
    model_404(c, m->id, why);
    up_call_done(c);
    return true;
}

void up_step_acquire(struct call *c)
{
    c->step = S_ACQUIRE;
    acct_tags_select(c->group);       /* pool selection: the key's account group */
    c->att_i = c->n_file_ids = 0;     /* a new attempt uploads again */
    struct account *a = NULL;
    int ra = 0;
    bool all429 = false;
    enum work_kind wk = up_work_kind(c);
    if (c->attempts == 0 && model_unavailable(c))
        return;
    if (c->forced_account >= 0) {
        a = pool_acquire_id(c->forced_account, true);
        if (!a) {
            up_finish_err(c, 404, "not_found", 0, "client", "no such account");
            up_call_done(c);
            return;
        }
    } else if (c->pref_account >= 0 && c->attempts == 0) {
        a = pool_acquire_id_kind(c->pref_account, false, wk);
        if (a) {
            c->continuing = true;
            free(c->session_name);
            c->session_name = c->pref_session ? strdup(c->pref_session) : NULL;
            if (!c->session_name)
                c->continuing = false;     /* no session to continue: a new one, full history */
        }
    }
    if (!a)
        a = c->forced_account >= 0 ? NULL : pool_acquire_kind(c->exclude, c->nex, wk, &ra, &all429);
    if (!a) {
        bool rl = c->last_outcome == OUT_RATE_LIMIT || c->last_outcome == OUT_OVERLOADED;
        if (c->attempts > 0 && !rl && !all429)
            final_error(c, (enum outcome)c->last_outcome, c->last_detail);
        else if (rl || all429)
            up_finish_err(c, 429, "rate_limit_exceeded", ra > 0 ? ra : (int)cfg.cooldown_429,
                       "rate_limit", "Every usable account is rate limited upstream; retry in %d s.",
                       ra > 0 ? ra : (int)cfg.cooldown_429);
        else
            up_finish_err(c, 503, "no_available_accounts", ra > 0 ? ra : 30, "upstream",
                       "No usable account in the pool (all disabled, expired, cooling down or busy).");
        up_call_done(c);
        return;
    }
    c->acct = a;
    pthread_mutex_lock(&c->mu);
    c->account_id = a->id;
    snprintf(c->account_name, sizeof(c->account_name), "%s", a->name ? a->name : "");
    pthread_mutex_unlock(&c->mu);
    up_step_jwt(c);
}

void up_step_session(struct call *c)
{
    c->step = S_SESSION;
    if (c->session_name) {
        up_step_upload(c);
        return;
    }
    c->att_i = c->n_file_ids = 0;     /* file ids belong to the old session */
    struct creds cr;
    if (pool_creds(c->acct, &cr) != 0) {
        up_failover(c, OUT_EXPIRED, "account has no credentials");
        return;
    }
    char url[2048];
    snprintf(url, sizeof(url), "%s/v1alpha/locations/global/widgetCreateSession", cfg.api_url);
    struct xfer *x = up_xfer_new(X_SESSION, url, cr.proxy);
    if (!x) {
        pool_creds_free(&cr);
        up_failover(c, OUT_NETWORK, "out of memory");
        return;
    }
    x->post = google_session_body(cr.config_id);
    pool_creds_free(&cr);
    if (!x->post) {
        up_xfer_free(x);
        up_finish_err(c, 500, NULL, 0, "upstream", "out of memory building the request");
        up_call_done(c);
        return;
    }
    up_api_headers(x, c->acct);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT, (long)(cfg.up_connect_timeout + 30));
    if (up_active_count() > FRESH_CONN_ABOVE) {
        /* see step_stream: keep the connection cache out of busy periods */
        curl_easy_setopt(x->easy, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(x->easy, CURLOPT_FORBID_REUSE, 1L);
    }
    up_start_for(c, x);
}

void up_session_done(struct xfer *x, CURLcode res)
{
    struct call *c = x->call;
    c->xfer = NULL;
    long st = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &st);
    char detail[200], gs[64], gm[160];
    if (res != CURLE_OK) {
        snprintf(detail, sizeof(detail), "createSession: %s", curl_easy_strerror(res));
        up_xfer_free(x);
        up_failover(c, OUT_NETWORK, detail);
        return;
    }
    if (st != 200) {
        google_error(&x->resp, gs, sizeof(gs), gm, sizeof(gm), NULL, 0);
        snprintf(detail, sizeof(detail), "createSession %ld %s", st, gs[0] ? gs : gm);
        up_xfer_free(x);
        if (st == 401 && !c->jwt_retried) {
            c->jwt_retried = true;
            up_key_invalidate(c->acct);
            up_step_jwt(c);
            return;
        }
        up_failover(c, google_outcome(G_SESSION, st), detail);
        return;
    }
    cJSON *j = cJSON_Parse(x->resp.p ? x->resp.p : "");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "session");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");
    if (!cJSON_IsString(name) || !*name->valuestring) {
        cJSON_Delete(j);
        up_xfer_free(x);
        up_failover(c, OUT_SERVER, "createSession answer without session.name");
        return;
    }
    free(c->session_name);
    c->session_name = strdup(name->valuestring);
    c->continuing = false;
    cJSON_Delete(j);
    up_xfer_free(x);
    if (!c->session_name) {
        up_finish_err(c, 500, NULL, 0, "upstream", "out of memory");
        up_call_done(c);
        return;
    }
    up_step_upload(c);
}

void up_step_stream(struct call *c)
{
    if (up_key_or_wait(c, R_STREAM))
        return;
    c->step = S_STREAM;
    struct creds cr;
    if (pool_creds(c->acct, &cr) != 0) {
        up_failover(c, OUT_EXPIRED, "account has no credentials");
        return;
    }
    char url[2048];
    snprintf(url, sizeof(url), "%s/v1alpha/locations/global/widgetStreamAssist", cfg.api_url);
    struct xfer *x = up_xfer_new(X_STREAM, url, cr.proxy);
    if (!x) {
        pool_creds_free(&cr);
        up_failover(c, OUT_NETWORK, "out of memory");
        return;
    }
    struct gg_buf q;
    gg_buf_init(&q, 64u << 20);
    int qrc = toolcall_query(c, &q);   /* history (+ tools), or the tool-call correction */
    if (qrc == 0 && q.len == 0)
        qrc = gg_buf_adds(&q, " ");
    if (qrc != 0 || !q.p) {
        /* never send a cut question */
        gg_buf_free(&q);
        pool_creds_free(&cr);
        up_xfer_free(x);
        up_finish_err(c, 413, "context_length_exceeded", 0, "client",
                      "The conversation is too large to send upstream (64 MiB of text).");
        up_call_done(c);
        return;
    }
    struct google_query gq = {
        .config_id = cr.config_id, .session = c->session_name, .text = q.p,
        .file_ids = c->file_ids, .n_file_ids = c->n_file_ids,
        .tools = c->kind == CALL_TEST ? 0 : c->req.model.tools,
        .model_id = c->kind == CALL_TEST || !c->req.model.model ? NULL : c->req.model.model->upstream_id,
    };
    x->post = google_stream_body(&gq);
    gg_buf_free(&q);
    pool_creds_free(&cr);
    if (!x->post) {
        up_xfer_free(x);
        up_finish_err(c, 500, NULL, 0, "upstream", "out of memory building the request");
        up_call_done(c);
        return;
    }
    up_api_headers(x, c->acct);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, write_stream);
    curl_easy_setopt(x->easy, CURLOPT_BUFFERSIZE, 8192L); /* elements are small; saves 8 KiB a stream */
    /* answers come uncompressed unless configured: a stream would hold ~40 KiB
     * of inflate state, a short answer spends ~8% of its CPU inflating */
    if (!(c->req.stream ? cfg.up_gzip_streams : cfg.up_gzip_answers))
        curl_easy_setopt(x->easy, CURLOPT_ACCEPT_ENCODING, NULL);
    if (up_active_count() > FRESH_CONN_ABOVE) {
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
    up_start_for(c, x);
}

/* The answer is complete: remember the conversation, send the end. */
void up_complete_ok(struct call *c)
{
    int t = answer_tools_settle(c);     /* 1: an invalid tool call, correct it on this session */
    if (t > 0) {
        up_reset_attempt(c);
        up_step_stream(c);
    } else if (t < 0) {
        up_call_done(c);
    }
    if (t != 0)
        return;
    if (c->kind == CALL_CHAT && c->session_name && c->acct) {
        char key[65];
        /* hashed as the answer grew (answer.c); whole only when that state lapsed */
        if (!exch_convhash_final(&c->convkey, c->answer.p, c->req.n_msgs, c->answer.len, c->tres.calls, c->tres.n_calls, key))
            exch_conv_key_calls(c->key_id, &c->req, c->req.n_msgs, c->answer.p ? c->answer.p : "", c->answer.len,
                                c->tres.calls, c->tres.n_calls, key);
        sessions_put(key, c->acct->id, c->session_name,
                     c->req.model.model ? c->req.model.model->id : "gemini-auto");
    }
    answer_finish(c, EXCH_FIN_STOP);
    up_call_done(c);
}

/* §3.2: a model the upstream does not serve is a property of the model:
 * no new session, no failover, no cooldown; the client gets a 404 naming
 * it and the model answers 404 without an upstream call for
 * MODEL_UNAVAILABLE_TTL.  True when the call was ended here. */
static bool model_rejected(struct call *c, long st, const char *gm)
{
    const struct model_info *m = c->kind == CALL_TEST ? NULL : c->req.model.model;
    if (!m || !google_model_rejected(st, gm, m->upstream_id))
        return false;
    models_mark_unavailable(m->id, cfg.model_unavailable_ttl, gm);
    GG_WARN("[%s] upstream rejected model %s (%ld %s): marked unavailable for %lld s", c->request_id, m->id,
            st, gm, (long long)cfg.model_unavailable_ttl);
    if (c->acct)
        pool_report(c->acct, OUT_CLIENT, "model not served upstream");
    model_404(c, m->id, gm);
    up_call_done(c);
    return true;
}

static bool not_owned(const char *msg)
{
    return msg && strstr(msg, "not owned");
}

/* The two recoverable API failures, each tried once per attempt: a 401
 * refreshes the JWT and repeats the step; a 404 or "not owned" session
 * gets a new session and the full context.  Returns true when a retry
 * was started. */
bool up_retry_once(struct call *c, long st, const char *gm)
{
    if (st == 401 && !not_owned(gm) && !c->jwt_retried) {
        c->jwt_retried = true;
        up_key_invalidate(c->acct);
        up_step_jwt(c);
        return true;
    }
    if ((st == 404 || not_owned(gm)) && !c->session_retried) {
        c->session_retried = true;
        free(c->session_name);
        c->session_name = NULL;
        c->continuing = false;
        up_step_session(c);
        return true;
    }
    return false;
}

void up_stream_done(struct xfer *x, CURLcode res)
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
        up_xfer_free(x);
        pool_report(c->acct, OUT_CLIENT, "client disconnected");
        pthread_mutex_lock(&c->mu);
        c->error_kind = "client_abort";
        c->out_done = true;
        call_wake_locked(c);
        pthread_mutex_unlock(&c->mu);
        answer_usage(c);
        up_call_done(c);
        return;
    }
    if (answer_complete(c) && st == 200) {
        /* we cut the transfer ourselves: the answer is complete */
        up_xfer_free(x);
        pool_report(c->acct, OUT_OK, NULL);
        up_complete_ok(c);
        return;
    }
    if (res != CURLE_OK && st == 200 && c->xl.elements > 0 && split_finish(&c->sp) == SPLIT_COMPLETE)
        res = CURLE_OK; /* body complete; trailing garbage is harmless */
    if (st != 200 && st != 0) {
        char rs[48];
        google_error(&x->resp, gs, sizeof(gs), gm, sizeof(gm), rs, sizeof(rs));
        snprintf(detail, sizeof(detail), "%ld %s%s%s", st, gs, gm[0] ? ": " : "", gm);
        up_xfer_free(x);
        if (model_rejected(c, st, gm))
            return;
        if (up_retry_once(c, st, gm))
            return;
        enum outcome o = google_outcome(G_STREAM, st);
        if (o == OUT_CLIENT) {
            if (c->acct)
                pool_report(c->acct, OUT_CLIENT, detail);
            up_finish_err(c, 502, "upstream_bad_request", 0, "upstream",
                       "Upstream rejected the request: %s", detail);
            up_call_done(c);
            return;
        }
        if (st == 429) {
            o = google_429_kind(gs, gm, rs);
            snprintf(detail, sizeof(detail), "%s", o == OUT_OVERLOADED ? "LLM_OVERLOADED"
                     : gs[0] ? gs : "RESOURCE_EXHAUSTED");
        }
        up_failover(c, o, detail);
        return;
    }
    bool truncated = res != CURLE_OK || split_finish(&c->sp) == SPLIT_TRUNCATED;
    if (res != CURLE_OK)
        snprintf(detail, sizeof(detail), "%s", curl_easy_strerror(res));
    else
        snprintf(detail, sizeof(detail), "upstream stream ended without its closing bracket");
    up_xfer_free(x);
    xlate_flush(&c->xl);
    enum work_kind wk = up_work_kind(c);
    if (c->inband_code) {
        bool rl = c->inband_code == 429 || strcmp(c->inband_status, "RESOURCE_EXHAUSTED") == 0;
        enum outcome ro = rl ? google_429_kind(c->inband_status, c->inband_msg, NULL) : OUT_SERVER;
        snprintf(detail, sizeof(detail), "%d %s%s%s", c->inband_code, c->inband_status,
                 c->inband_msg[0] ? ": " : "", c->inband_msg);
        if (c->content_sent) {
            pool_report_kind(c->acct, wk, ro, detail);
            up_finish_err(c, rl ? 429 : 502,
                       rl ? "rate_limit_exceeded" : "upstream_error", 0, rl ? "rate_limit" : "upstream",
                       "Upstream error after the answer started: %s", detail);
            up_call_done(c);
            return;
        }
        up_failover(c, ro, rl ? (ro == OUT_OVERLOADED ? "LLM_OVERLOADED"
                                 : c->inband_status[0] ? c->inband_status : "RESOURCE_EXHAUSTED") : detail);
        return;
    }
    if (truncated) {
        if (c->content_sent) {
            pool_report_kind(c->acct, wk, OUT_NETWORK, detail);
            up_finish_err(c, 502, "stream_truncated", 0, "truncated",
                       "The upstream stream was cut before the answer was complete (%s).", detail);
            up_call_done(c);
            return;
        }
        up_failover(c, OUT_NETWORK, detail);
        return;
    }
    if (!c->xl.sar_seen && c->xl.utoken_seen && !c->any_text && !c->any_file) {
        /* §5.2: a body with only a uToken is an authentication problem */
        if (!c->utoken_retried) {
            c->utoken_retried = true;
            GG_INFO("[%s] uToken-only answer: new JWT, one retry", c->request_id);
            up_key_invalidate(c->acct);
            up_reset_attempt(c);
            up_step_jwt(c);
            return;
        }
        up_failover(c, OUT_AUTH, "uToken-only answer (authentication)");
        return;
    }
    if (c->final_state && (strcmp(c->final_state, "SKIPPED") == 0 || strcmp(c->final_state, "FAILED") == 0) &&
        !c->any_text) {
        char msg[600];
        snprintf(msg, sizeof(msg), "The upstream declined to answer (%s)%s%s.",
                 strcmp(c->final_state, "SKIPPED") == 0 ? "skipped" : "failed",
                 c->skip_detail ? ": " : "", c->skip_detail ? c->skip_detail : "");
        up_sink_text(c, msg, strlen(msg), false);
        pool_report_kind(c->acct, wk, OUT_OK, NULL);
        answer_finish(c, EXCH_FIN_CONTENT_FILTER);
        up_call_done(c);
        return;
    }
    /* image / video work whose files come after the stream (§7) */
    /* ... when generation was under way (status lines) or nothing else came */
    bool poll = c->kind != CALL_TEST && wk != WK_TEXT && c->n_gen == 0 && cfg.image_poll_timeout > 0 &&
                (c->xl.status_lines > 0 || !c->any_text);
    if (!c->any_text && !c->any_file && !poll) {
        up_failover(c, OUT_EMPTY, "thoughts but no answer");
        return;
    }
    pool_report_kind(c->acct, wk, OUT_OK, NULL);
    if (c->n_gen && c->kind != CALL_TEST) {
        up_step_media(c);
        return;
    }
    if (poll) {
        up_step_poll(c);
        return;
    }
    if (c->kind == CALL_IMAGES) {
        up_finish_err(c, 502, "no_image_generated", 0, "upstream",
                   "The model answered without generating an image: %.300s", c->answer.p ? c->answer.p : "");
        up_call_done(c);
        return;
    }
    up_complete_ok(c);
}
