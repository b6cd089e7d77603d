/* exch_http.c -- see exch_http.h */
#include "exch_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "call.h"
#include "acct_tags.h"
#include "config.h"
#include "exch_keys.h"
#include "flatten.h"
#include "gg_log.h"
#include "gg_time.h"
#include "gg_util.h"
#include "http.h"
#include "metrics.h"
#include "models.h"
#include "reqlog.h"
#include "results.h"
#include "sessions.h"
#include "upstream.h"

#define SSE_BLOCK 4096 /* MHD callocs it per response; used only without chunking (HTTP/1.0): BENCHMARKS.md section 3 */

enum MHD_Result exch_http_reply_error(struct http_req *r, const struct exch_dialect *d, const struct exch_error *e)
{
    struct gg_buf b;
    gg_buf_init(&b, 8192);
    d->error_body(e, &b);
    struct MHD_Response *resp = MHD_create_response_from_buffer(b.len, b.p, MHD_RESPMEM_MUST_COPY);
    gg_buf_free(&b);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    if (e->retry_after > 0) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%d", e->retry_after);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    if (e->status == 400 || e->status == 404 || e->status == 401 || e->status == 413)
        MHD_add_response_header(resp, "x-should-retry", "false");
    http_add_common_headers(r, resp);
    int st = d->http_status ? d->http_status(e) : e->status;
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)st, resp);
    MHD_destroy_response(resp);
    r->status = st;
    return ret;
}

int exch_http_auth(struct http_req *r, const struct exch_dialect *d, char key_id[24])
{
    if (r->authed) {        /* http.c checked the route's key on the first callback */
        snprintf(key_id, 24, "%s", r->key_id[0] ? r->key_id : "anonymous");
        return 1;
    }
    const char *tok = http_bearer(r, "x-api-key");
    if (!tok)
        tok = http_header(r, "x-goog-api-key");     /* Gemini clients */
    if (!tok)
        tok = http_query(r, "key");
    struct exch_error e;
    int ck = exch_keys_auth(tok, key_id, &e);   /* client keys (issue 15) */
    if (ck == 0)
        exch_http_reply_error(r, d, &e);
    if (ck >= 0)
        return ck;
    if (auth_check_api(tok, key_id))
        return 1;
    if (!tok || !*tok)
        exch_set_error(&e, 401, EXCH_ERR_AUTH, NULL, "missing_api_key",
                       "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).");
    else
        exch_set_error(&e, 401, EXCH_ERR_AUTH, NULL, "invalid_api_key",
                       "Incorrect API key provided. You can find your API key in the gateway's configuration (API_KEY).");
    exch_http_reply_error(r, d, &e);
    return 0;
}

/* The reader side of a stream: the first `off` bytes of c->out went to MHD
 * already.  They are dropped once they are at least as many as the bytes
 * left (or all were sent), so a byte is moved at most once: consuming what
 * each read took moved the whole backlog every time (up to OUT_HIGH_WATER
 * per 16 KiB read behind a slow client), under the lock the upstream
 * thread appends with. */
struct sse_reader {
    struct call *c;
    size_t off;
};

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct sse_reader *rd = cls;
    struct call *c = rd->c;
    pthread_mutex_lock(&c->mu);
    if (rd->off > c->out.len)
        rd->off = 0;            /* the buffer was reset: nothing of it was pending */
    if (c->out.len > rd->off) {
        size_t left = c->out.len - rd->off;
        size_t n = left < max ? left : max;
        memcpy(buf, c->out.p + rd->off, n);
        rd->off += n;
        left -= n;
        bool unpause = c->upstream_paused && !c->unpause_posted && left < 64 * 1024;
        /* the upstream's high-water mark reads c->out.len: compact before it resumes */
        if (left == 0 || rd->off >= left || unpause) {
            gg_buf_consume(&c->out, rd->off);
            rd->off = 0;
        }
        if (unpause)
            c->unpause_posted = true;
        pthread_mutex_unlock(&c->mu);
        if (unpause)
            upstream_unpause(c);
        return (ssize_t)n;
    }
    if (c->aborted) {
        pthread_mutex_unlock(&c->mu);
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    if (c->out_done) {
        pthread_mutex_unlock(&c->mu);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    c->suspended = true;
    MHD_suspend_connection(c->conn);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

static void stream_free(void *cls)
{
    free(cls);  /* the reader state; the call is released by exch_http_completed */
}

static enum MHD_Result resumed(struct http_req *r)
{
    struct call *c = r->call;
    pthread_mutex_lock(&c->mu);
    if (c->aborted && c->phase != PH_STREAM) {
        pthread_mutex_unlock(&c->mu);
        return MHD_NO;
    }
    switch (c->phase) {
    case PH_WAIT:
        c->suspended = true;
        MHD_suspend_connection(c->conn);
        pthread_mutex_unlock(&c->mu);
        return MHD_YES;
    case PH_FAILED: {
        struct exch_error e = c->err;
        pthread_mutex_unlock(&c->mu);
        return exch_http_reply_error(r, c->dialect, &e);
    }
    case PH_DONE: {
        size_t n = 0;
        char *body = gg_buf_steal(&c->out, &n);
        pthread_mutex_unlock(&c->mu);
        enum MHD_Result ret = http_reply_json(r, 200, body ? body : "", n);
        free(body);
        return ret;
    }
    case PH_STREAM:
    default:
        pthread_mutex_unlock(&c->mu);
        break;
    }
    struct sse_reader *rd = malloc(sizeof(*rd));
    if (!rd)
        return MHD_NO;
    rd->c = c;
    rd->off = 0;
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SSE_BLOCK, stream_reader, rd,
                                                                  stream_free);
    if (!resp) {
        free(rd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", c->dialect->stream_ctype);
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    http_add_common_headers(r, resp);
    enum MHD_Result ret = MHD_queue_response(r->conn, 200, resp);
    MHD_destroy_response(resp);
    r->status = 200;
    return ret;
}

/* Method, API key and rate limit; false when a reply was queued. */
static bool admit(struct http_req *r, const struct exch_dialect *d, char key_id[24], enum MHD_Result *ret)
{
    *ret = MHD_YES;
    struct exch_error e;
    if (strcmp(r->method, "POST") != 0) {
        exch_set_error(&e, 405, EXCH_ERR_INVALID, NULL, "method_not_allowed",
                       "Method %s is not allowed on %s; use POST.", r->method, r->url);
        *ret = exch_http_reply_error(r, d, &e);
        return false;
    }
    if (!exch_http_auth(r, d, key_id))
        return false;
    if (metrics_rate_limited(key_id)) {
        exch_set_error(&e, 429, EXCH_ERR_RATE_LIMIT, NULL, "rate_limit_exceeded",
                       "Rate limit reached for this API key (%lld requests per minute).",
                       (long long)cfg.rate_limit_rpm);
        e.retry_after = 60;
        *ret = exch_http_reply_error(r, d, &e);
        return false;
    }
    int ka = exch_keys_admit(r, key_id, &e);
    if (ka <= 0)
        *ret = ka < 0 ? MHD_NO : exch_http_reply_error(r, d, &e);
    return ka > 0;
}

/* Prefix of gateway-served /images/ links: PUBLIC_URL, else the scheme
 * (X-Forwarded-Proto) and Host the client used. */
static void base_url(struct http_req *r, char *out, size_t n)
{
    if (cfg.public_url && *cfg.public_url) {
        snprintf(out, n, "%s", cfg.public_url);
        size_t l = strlen(out);
        while (l > 0 && out[l - 1] == '/')
            out[--l] = '\0';
        return;
    }
    const char *host = http_header(r, "Host");
    const char *proto = http_header(r, "X-Forwarded-Proto");
    bool ok = host && *host && strlen(host) < 200;
    for (const char *p = host; ok && *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr(".-:[]_", *p)))
            ok = false;
    snprintf(out, n, "%s://%s", proto && strcmp(proto, "https") == 0 ? "https" : "http",
             ok ? host : "localhost");
}

/* The conversation this request continues: its account, session and model. */
static void find_conversation(struct call *c)
{
    if (c->kind != CALL_CHAT || c->req.first_new == 0)
        return;
    exch_conv_key(c->key_id, &c->req, c->req.first_new, NULL, 0, c->prev_key);
    int64_t aid;
    char *sess = NULL, *model = NULL;
    if (sessions_take(c->prev_key, &aid, &sess, &model) != 0)
        return;
    c->pref_account = aid;
    c->pref_session = sess;
    struct model_choice mc;
    if (model && strcmp(model, c->req.model.model->id) != 0 && models_resolve(model, &mc) == 0) {
        GG_INFO("[%s] conversation keeps its model %s (requested %s)", c->request_id, model, c->req.model_req);
        unsigned tools = c->req.model.tools;
        c->req.model = mc;
        c->req.model.tools = tools;
    }
    free(model);
}

/* The key id that scopes conversations and kept results: without API keys,
 * the client's address. */
static void effective_key(const struct http_req *r, const char *key_id, char out[24])
{
    if (strcmp(key_id, "anonymous") == 0)
        snprintf(out, 24, "ip:%.20s", r->client_ip);
    else
        snprintf(out, 24, "%s", key_id);
}

/* Does this turn carry a tool result without the tool's name (only its call
 * id)?  Only then is the kept result's body copied out for continue_result. */
static bool nameless_tool_result(const struct exch_request *req)
{
    for (size_t i = req->first_new; i < req->n_msgs; i++)
        if (req->msgs[i].role == EXCH_TOOL && !req->msgs[i].name && req->msgs[i].tool_call_id)
            return true;
    return false;
}

/* A request that continues a kept result (previous_response_id): its
 * account and session.  false (and *err filled) when the id is unknown to
 * this key. */
static bool find_continued(struct http_req *r, struct call *c, const char *key_id, struct exch_error *err)
{
    const struct exch_dialect *d = c->dialect;
    const char *cid = d->continue_id ? d->continue_id(&c->req) : NULL;
    if (!cid)
        return true;
    char k[24];
    effective_key(r, key_id, k);
    int64_t aid;
    char *sess = NULL, *model = NULL;
    if (results_session(k, cid, &aid, &sess, &model) != 0) {
        d->result_missing(cid, "previous_response_id", err);
        return false;
    }
    free(model);
    if (d->continue_result && nameless_tool_result(&c->req)) {
        char *body = NULL;
        size_t n = 0;
        if (results_get(k, cid, &body, &n) == 0)
            d->continue_result(&c->req, body, n);
        free(body);
    }
    if (aid >= 0 && sess) {
        c->pref_account = aid;
        c->pref_session = sess;
    } else {
        free(sess);
    }
    return true;
}

/* Fill the call's identity, suspend the connection and hand it over. */
static enum MHD_Result submit(struct http_req *r, struct call *c, const char *key_id)
{
    gg_buf_free(&r->body);
    snprintf(c->request_id, sizeof(c->request_id), "%s", r->request_id);
    char hex[33];
    gg_random_hex(hex, 12);
    snprintf(c->chat_id, sizeof(c->chat_id), "%s%s", c->dialect->id_prefix ? c->dialect->id_prefix : "", hex);
    effective_key(r, key_id, c->key_id);
    c->created_s = gg_now_ms() / 1000;
    c->t_start_us = r->t_start_us;
    c->conn = r->conn;
    base_url(r, c->base_url, sizeof(c->base_url));
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    c->client_fd = ci ? ci->connect_fd : -1;
    if (c->req.model.upgraded)
        GG_INFO("[%s] model %s upgraded to %s", c->request_id, c->req.model_req, c->req.model.model->id);
    find_conversation(c);
    if (c->pref_account >= 0 && !acct_tags_match(c->pref_account, c->group))
        c->pref_account = -1;         /* outside the client key's account group (issue 15) */
    c->x.req = &c->req;
    c->x.id = c->chat_id;
    c->x.model = c->req.model.model ? c->req.model.model->id : "gemini-auto";
    c->x.created_s = c->created_s;
    r->call = c;
    pthread_mutex_lock(&c->mu);
    c->suspended = true;
    MHD_suspend_connection(r->conn);
    pthread_mutex_unlock(&c->mu);
    upstream_submit(c);
    return MHD_YES;
}

enum MHD_Result exch_http_handle(struct http_req *r, const struct exch_dialect *d, const struct exch_parse_in *in0)
{
    if (r->call)
        return resumed(r);
    if (r->status)
        return MHD_YES;
    char key_id[24];
    enum MHD_Result ret;
    if (!admit(r, d, key_id, &ret))
        return ret;
    struct call *c = call_new(d->images ? CALL_IMAGES : CALL_CHAT);
    if (!c)
        return MHD_NO;
    c->dialect = d;
    if (d->state_size && !(c->x.state = calloc(1, d->state_size))) {
        call_put(c);
        call_put(c);
        return MHD_NO;
    }
    struct exch_parse_in in = *in0;
    in.key_id = key_id;
    struct exch_error err;
    memset(&err, 0, sizeof(err));
    if (d->parse(&in, &c->req, &err) != 0) {
        call_put(c);
        call_put(c);
        metrics_request_done(d->name, NULL, err.status, 0, -1, "client");
        return exch_http_reply_error(r, d, &err);
    }
    if (!find_continued(r, c, key_id, &err)) {
        call_put(c);
        call_put(c);
        metrics_request_done(d->name, NULL, err.status, 0, -1, "client");
        return exch_http_reply_error(r, d, &err);
    }
    if (!exch_keys_check(r, c, &err)) {
        /* counted under the model the client asked for */
        exch_keys_finish(r, c->req.model_req, 0, 0, true);
        call_put(c);
        call_put(c);
        metrics_request_done(d->name, NULL, err.status, 0, -1, "client");
        return exch_http_reply_error(r, d, &err);
    }
    return submit(r, c, key_id);
}

enum MHD_Result exch_http_result(struct http_req *r, const struct exch_dialect *d, const char *id)
{
    struct exch_error e;
    bool del = strcmp(r->method, "DELETE") == 0;
    if (!del && strcmp(r->method, "GET") != 0) {
        exch_set_error(&e, 405, EXCH_ERR_INVALID, NULL, "method_not_allowed",
                       "Method %s is not allowed on %s; use GET or DELETE.", r->method, r->url);
        return exch_http_reply_error(r, d, &e);
    }
    char key_id[24], k[24];
    if (!exch_http_auth(r, d, key_id))
        return MHD_YES;
    effective_key(r, key_id, k);
    if (!d->result_missing) {
        exch_set_error(&e, 404, EXCH_ERR_NOT_FOUND, NULL, "not_found", "Not found: %s", r->url);
        return exch_http_reply_error(r, d, &e);
    }
    if (del) {
        if (results_delete(k, id) != 0) {
            d->result_missing(id, NULL, &e);
            return exch_http_reply_error(r, d, &e);
        }
        struct gg_buf b;
        gg_buf_init(&b, 4096);
        d->result_deleted(id, &b);
        enum MHD_Result ret = http_reply_json(r, 200, b.p ? b.p : "{}", b.len);
        gg_buf_free(&b);
        return ret;
    }
    char *body = NULL;
    size_t n = 0;
    if (results_get(k, id, &body, &n) != 0) {
        d->result_missing(id, NULL, &e);
        return exch_http_reply_error(r, d, &e);
    }
    enum MHD_Result ret = http_reply_json(r, 200, body, n);
    free(body);
    return ret;
}

void exch_http_completed(struct http_req *r, enum MHD_RequestTerminationCode toe)
{
    struct call *c = r->call;
    int64_t lat_ms = (gg_mono_us() - r->t_start_us) / 1000;
    if (!c) {
        exch_keys_finish(r, NULL, 0, 0, true);
        GG_INFO("%s POST %s status=%d latency_ms=%lld", r->request_id, r->url, r->status, (long long)lat_ms);
        return;
    }
    pthread_mutex_lock(&c->mu);
    c->conn_gone = true;
    c->suspended = false;
    bool finished = c->out_done;
    bool clean = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK;
    int status = c->final_status ? c->final_status : r->status;
    const char *kind = c->error_kind;
    if (!clean && !kind)
        kind = "client_abort";
    int64_t ttft = c->t_first_us ? (c->t_first_us - c->t_start_us) / 1000 : -1;
    int64_t acct = c->account_id;
    char acct_name[64];
    snprintf(acct_name, sizeof(acct_name), "%s", c->account_name);
    int64_t pt = c->prompt_tokens, ct = c->completion_tokens;
    int ntc = c->tool_calls;
    pthread_mutex_unlock(&c->mu);
    if (!finished)
        upstream_cancel(c);
    const char *model = c->req.model.model ? c->req.model.model->id : "-";
    GG_INFO("%s chat model=%s account=%lld status=%d stream=%d latency_ms=%lld ttft_ms=%lld "
            "tokens=%lld/%lld tool_calls=%d%s%s",
            r->request_id, model, (long long)acct, status, c->req.stream ? 1 : 0, (long long)lat_ms,
            (long long)ttft, (long long)pt, (long long)ct, ntc, kind ? " error=" : "", kind ? kind : "");
    struct reqlog_entry e = {
        .request_id = r->request_id, .dialect = c->dialect ? c->dialect->name : NULL, .model = model,
        .account_id = acct, .account = acct_name,
        .status = status, .error_kind = kind, .latency_ms = lat_ms, .ttft_ms = ttft,
        .prompt_tokens = pt, .completion_tokens = ct, .stream = c->req.stream, .tool_calls = ntc,
    };
    reqlog_record(&e);
    exch_keys_finish(r, model, pt, ct, !clean || kind || status >= 400);
    metrics_request_done(c->dialect ? c->dialect->name : NULL, model, status, lat_ms, ttft, kind);
    call_put(c);
    r->call = NULL;
}
