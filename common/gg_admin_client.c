/* gg_admin_client.c -- the admin client's blocking layer (see
 * gg_admin_client.h, layer 1): connection settings, error mapping (curl
 * codes, HTTP statuses, the server's error envelope) and the two transfers
 * every other part is built on: gg_admin_call() (one request, JSON reply)
 * and gg_admin_logs_stream() (the SSE log stream, fed to gg_sse_feed).
 * Route helpers: gg_admin_routes.c; SSE parser: gg_admin_sse.c; async
 * workers: gg_admin_async.c; what they share: gg_admin_client_internal.h.
 */
#include "gg_admin_client_internal.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR_BODY_MAX (64 * 1024)

/* ---- settings ------------------------------------------------------------ */

static char *dup_trim_slash(const char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        n--;
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

int gg_admin_client_init(struct gg_admin_client *c, const char *url, const char *key)
{
    memset(c, 0, sizeof(*c));
    c->base_url = dup_trim_slash(url && *url ? url : GG_ADMIN_DEFAULT_URL);
    if (!c->base_url)
        goto fail;
    if (key && *key) {
        c->key = strdup(key);
        if (!c->key)
            goto fail;
    }
    c->connect_timeout_ms = 3000;
    c->timeout_ms = 15000;
    c->slow_timeout_ms = 120000;
    c->max_reply = 32u * 1024 * 1024;
    return 0;
fail:
    gg_admin_client_free(c);
    return -1;
}

void gg_admin_client_free(struct gg_admin_client *c)
{
    free(c->base_url);
    if (c->key) {
        volatile char *k = c->key;
        while (*k)
            *k++ = 0;
        free(c->key);
    }
    c->base_url = NULL;
    c->key = NULL;
}

int gg_admin_client_copy(struct gg_admin_client *dst, const struct gg_admin_client *src)
{
    if (gg_admin_client_init(dst, src->base_url, src->key) < 0)
        return -1;
    dst->connect_timeout_ms = src->connect_timeout_ms;
    dst->timeout_ms = src->timeout_ms;
    dst->slow_timeout_ms = src->slow_timeout_ms;
    dst->max_reply = src->max_reply;
    return 0;
}

/* ---- errors -------------------------------------------------------------- */

void gg_admin_err_set(struct gg_admin_error *err, enum gg_admin_kind kind, long status,
                      const char *code, const char *msg)
{
    if (!err)
        return;
    err->kind = kind;
    err->http_status = status;
    snprintf(err->code, sizeof(err->code), "%s", code ? code : "");
    snprintf(err->message, sizeof(err->message), "%s", msg ? msg : "");
}

static void err_clear(struct gg_admin_error *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}

void gg_admin_strerror(const struct gg_admin_error *err, const char *base_url,
                       char *out, size_t n)
{
    const char *url = base_url ? base_url : "server";
    switch (err->kind) {
    case GG_ADMIN_OK:
        snprintf(out, n, "ok");
        break;
    case GG_ADMIN_E_CONNECT:
        snprintf(out, n, "cannot reach %s%s%s", url, err->message[0] ? ": " : "", err->message);
        break;
    case GG_ADMIN_E_AUTH:
        snprintf(out, n, "admin key rejected (%ld)", err->http_status ? err->http_status : 401L);
        break;
    case GG_ADMIN_E_LOCKED:
        snprintf(out, n, "locked out, retry in %lds", err->retry_after_s);
        break;
    case GG_ADMIN_E_HTTP:
        if (err->code[0])
            snprintf(out, n, "%s: %s (%ld)", err->code, err->message, err->http_status);
        else
            snprintf(out, n, "HTTP %ld%s%s", err->http_status, err->message[0] ? ": " : "",
                     err->message);
        break;
    case GG_ADMIN_E_PARSE:
        snprintf(out, n, "bad reply from %s: %s", url, err->message);
        break;
    case GG_ADMIN_E_NOMEM:
        snprintf(out, n, "out of memory: %s", err->message);
        break;
    case GG_ADMIN_E_CANCELLED:
        snprintf(out, n, "cancelled");
        break;
    case GG_ADMIN_E_ARG:
        snprintf(out, n, "%s", err->message);
        break;
    }
}

/* Fill err from an HTTP error reply: the envelope when it parses, else the
 * first line of the body. */
static void err_from_reply(struct gg_admin_error *err, long status, const char *body,
                           size_t len, long retry_after)
{
    const char *code = "";
    const char *msg = "";
    char line[200];
    cJSON *j = body && len ? cJSON_ParseWithLength(body, len) : NULL;
    cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (cJSON_IsObject(e)) {
        cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
        cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
        if (cJSON_IsString(c))
            code = c->valuestring;
        if (cJSON_IsString(m))
            msg = m->valuestring;
    } else if (body && len) {
        size_t k = 0;
        while (k < len && k < sizeof(line) - 1 && body[k] != '\n' && body[k] != '\r') {
            line[k] = (body[k] >= 0x20 && body[k] < 0x7f) ? body[k] : '?';
            k++;
        }
        line[k] = '\0';
        msg = line;
    }
    enum gg_admin_kind kind = GG_ADMIN_E_HTTP;
    if (status == 401)
        kind = GG_ADMIN_E_AUTH;
    else if (status == 429 && (strcmp(code, "locked_out") == 0 || !*code))
        kind = GG_ADMIN_E_LOCKED;
    gg_admin_err_set(err, kind, status, code, msg);
    if (err)
        err->retry_after_s = retry_after;
    cJSON_Delete(j);
}

/* ---- transfers ----------------------------------------------------------- */

struct xfer {
    struct gg_buf body;
    const volatile int *cancel;
};

static size_t on_write(char *p, size_t sz, size_t nm, void *ud)
{
    struct xfer *x = ud;
    size_t n = sz * nm;
    if (gg_buf_add(&x->body, p, n) < 0)
        return 0; /* over the cap: CURLE_WRITE_ERROR */
    return n;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt; (void)dn; (void)ut; (void)un;
    const volatile int *cancel = ud;
    return cancel && *cancel ? 1 : 0;
}

/* Build the header list; returns NULL on allocation failure. */
static struct curl_slist *make_headers(const struct gg_admin_client *c, const char *ctype,
                                       const char *accept)
{
    struct curl_slist *h = NULL, *t;
    struct gg_buf b;
    gg_buf_init(&b, 16384);
    if (c->key && gg_buf_printf(&b, "Authorization: Bearer %s", c->key) < 0)
        goto fail;
    if (c->key) {
        t = curl_slist_append(h, b.p);
        if (!t)
            goto fail;
        h = t;
    }
    gg_buf_reset(&b);
    if (ctype) {
        if (gg_buf_printf(&b, "Content-Type: %s", ctype) < 0)
            goto fail;
        t = curl_slist_append(h, b.p);
        if (!t)
            goto fail;
        h = t;
        gg_buf_reset(&b);
    }
    if (gg_buf_printf(&b, "Accept: %s", accept) < 0)
        goto fail;
    t = curl_slist_append(h, b.p);
    if (!t)
        goto fail;
    h = t;
    t = curl_slist_append(h, "Expect:");
    if (!t)
        goto fail;
    h = t;
    if (b.p)
        memset(b.p, 0, b.len);
    gg_buf_free(&b);
    return h;
fail:
    if (b.p)
        memset(b.p, 0, b.len);
    gg_buf_free(&b);
    curl_slist_free_all(h);
    return NULL;
}

static void map_curl_error(struct gg_admin_error *err, CURLcode rc, const char *errbuf)
{
    const char *msg = errbuf && *errbuf ? errbuf : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_ABORTED_BY_CALLBACK:
        gg_admin_err_set(err, GG_ADMIN_E_CANCELLED, 0, "", "cancelled");
        break;
    case CURLE_WRITE_ERROR:
        gg_admin_err_set(err, GG_ADMIN_E_NOMEM, 0, "", "reply too large");
        break;
    case CURLE_OUT_OF_MEMORY:
        gg_admin_err_set(err, GG_ADMIN_E_NOMEM, 0, "", msg);
        break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        gg_admin_err_set(err, GG_ADMIN_E_ARG, 0, "", msg);
        break;
    default:
        gg_admin_err_set(err, GG_ADMIN_E_CONNECT, 0, "", msg);
        break;
    }
}

static CURL *easy_new(const struct gg_admin_client *c, const char *method, const char *path,
                      char *errbuf, struct gg_buf *url)
{
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    gg_buf_init(url, 8192);
    if (gg_buf_printf(url, "%s%s", c->base_url, path) < 0) {
        curl_easy_cleanup(h);
        return NULL;
    }
    errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url->p);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "gemctl/0.1");
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    if (strcmp(method, "GET") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    return h;
}

cJSON *gg_admin_call(const struct gg_admin_client *c, const char *method, const char *path,
                     const char *body, size_t body_len, const char *content_type,
                     bool slow, const volatile int *cancel, struct gg_admin_error *err)
{
    char errbuf[CURL_ERROR_SIZE];
    struct xfer x;
    struct gg_buf url;
    struct curl_slist *hdrs = NULL;
    cJSON *res = NULL;
    long status = 0;
    curl_off_t ra = 0;
    CURLcode rc;

    err_clear(err);
    gg_buf_init(&x.body, c->max_reply ? c->max_reply : 32u * 1024 * 1024);
    x.cancel = cancel;
    CURL *h = easy_new(c, method, path, errbuf, &url);
    if (!h) {
        gg_admin_err_set(err, GG_ADMIN_E_NOMEM, 0, "", "cannot create a transfer");
        goto out;
    }
    hdrs = make_headers(c, body ? (content_type ? content_type : "application/json") : NULL,
                        "application/json");
    if (!hdrs) {
        gg_admin_err_set(err, GG_ADMIN_E_NOMEM, 0, "", "cannot build headers");
        goto out;
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, slow ? c->slow_timeout_ms : c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    if (cancel) {
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)cancel);
    }
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    } else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
    rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        map_curl_error(err, rc, errbuf);
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra);
    if (status < 200 || status >= 300) {
        err_from_reply(err, status, x.body.p, x.body.len, (long)ra);
        goto out;
    }
    if (x.body.len == 0) {
        res = cJSON_CreateNull();
        if (!res)
            gg_admin_err_set(err, GG_ADMIN_E_NOMEM, status, "", "cannot allocate");
        goto out;
    }
    res = cJSON_ParseWithLength(x.body.p, x.body.len);
    if (!res) {
        gg_admin_err_set(err, GG_ADMIN_E_PARSE, status, "", "reply is not valid JSON");
        goto out;
    }
out:
    if (err && err->kind != GG_ADMIN_OK && !err->http_status)
        err->http_status = status;
    curl_slist_free_all(hdrs);
    if (h) {
        curl_easy_cleanup(h);
        gg_buf_free(&url);
    }
    gg_buf_free(&x.body);
    return res;
}

/* ---- SSE stream reader --------------------------------------------------- */

struct stream_ctx {
    CURL *h;
    struct gg_sse_parser sse;
    struct gg_buf errbody;
    long status;
    bool opened;
    int cb_rc;
    gg_sse_cb cb;
    void (*on_open)(void *ctx);
    void *ctx;
};

static size_t on_stream_write(char *p, size_t sz, size_t nm, void *ud)
{
    struct stream_ctx *s = ud;
    size_t n = sz * nm;
    if (!s->status)
        curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &s->status);
    if (s->status != 200) {
        gg_buf_add(&s->errbody, p, n); /* truncated silently at the cap */
        return n;
    }
    if (!s->opened) {
        s->opened = true;
        if (s->on_open)
            s->on_open(s->ctx);
    }
    int rc = gg_sse_feed(&s->sse, p, n, s->cb, s->ctx);
    if (rc) {
        s->cb_rc = rc;
        return 0;
    }
    return n;
}

static size_t on_stream_header(char *p, size_t sz, size_t nm, void *ud)
{
    struct stream_ctx *s = ud;
    size_t n = sz * nm;
    /* the blank line ending the headers: report "open" early, before any
     * event arrives (the server may send nothing for a while) */
    if ((n == 2 && p[0] == '\r' && p[1] == '\n') || (n == 1 && p[0] == '\n')) {
        long st = 0;
        curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &st);
        if (st == 200 && !s->opened) {
            s->status = 200;
            s->opened = true;
            if (s->on_open)
                s->on_open(s->ctx);
        }
    }
    return n;
}

enum gg_admin_kind gg_admin_logs_stream(const struct gg_admin_client *c, gg_sse_cb cb,
                                        void (*on_open)(void *ctx), void *ctx,
                                        const volatile int *cancel, struct gg_admin_error *err)
{
    char errbuf[CURL_ERROR_SIZE];
    struct gg_buf url;
    struct curl_slist *hdrs = NULL;
    struct stream_ctx s;
    struct gg_admin_error tmp;
    CURLcode rc;

    if (!err)
        err = &tmp;
    err_clear(err);
    memset(&s, 0, sizeof(s));
    s.cb = cb;
    s.on_open = on_open;
    s.ctx = ctx;
    gg_sse_init(&s.sse, SSE_LINE_MAX);
    gg_buf_init(&s.errbody, ERR_BODY_MAX);
    s.h = easy_new(c, "GET", "/api/admin/logs/stream", errbuf, &url);
    if (!s.h) {
        gg_admin_err_set(err, GG_ADMIN_E_NOMEM, 0, "", "cannot create a transfer");
        goto out;
    }
    hdrs = make_headers(c, NULL, "text/event-stream");
    if (!hdrs) {
        gg_admin_err_set(err, GG_ADMIN_E_NOMEM, 0, "", "cannot build headers");
        goto out;
    }
    curl_easy_setopt(s.h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(s.h, CURLOPT_WRITEFUNCTION, on_stream_write);
    curl_easy_setopt(s.h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(s.h, CURLOPT_HEADERFUNCTION, on_stream_header);
    curl_easy_setopt(s.h, CURLOPT_HEADERDATA, &s);
    /* no total timeout; a dead server is noticed through keep-alive pings:
     * fewer than 1 byte in 45 s (3 missed pings) ends the transfer */
    curl_easy_setopt(s.h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(s.h, CURLOPT_LOW_SPEED_TIME, 45L);
    curl_easy_setopt(s.h, CURLOPT_TCP_KEEPALIVE, 1L);
    if (cancel) {
        curl_easy_setopt(s.h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(s.h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(s.h, CURLOPT_XFERINFODATA, (void *)cancel);
    }
    rc = curl_easy_perform(s.h);
    if (!s.status)
        curl_easy_getinfo(s.h, CURLINFO_RESPONSE_CODE, &s.status);
    if (s.status && s.status != 200) {
        curl_off_t ra = 0;
        curl_easy_getinfo(s.h, CURLINFO_RETRY_AFTER, &ra);
        err_from_reply(err, s.status, s.errbody.p, s.errbody.len, (long)ra);
        goto out;
    }
    if (rc == CURLE_WRITE_ERROR && s.cb_rc > 0)
        goto out; /* the callback asked to stop */
    if (rc == CURLE_WRITE_ERROR && s.cb_rc < 0) {
        gg_admin_err_set(err, GG_ADMIN_E_PARSE, s.status, "", "malformed event stream");
        goto out;
    }
    if (rc != CURLE_OK) {
        map_curl_error(err, rc, errbuf);
        err->http_status = s.status;
        goto out;
    }
out:
    curl_slist_free_all(hdrs);
    if (s.h) {
        curl_easy_cleanup(s.h);
        gg_buf_free(&url);
    }
    gg_sse_free(&s.sse);
    gg_buf_free(&s.errbody);
    return err->kind;
}
