/* gg_admin_client.c -- see gg_admin_client.h */
#include "gg_admin_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ERR_BODY_MAX (64 * 1024)
#define SSE_LINE_MAX (1024 * 1024)

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

static void err_set(struct gg_admin_error *err, enum gg_admin_kind kind, long status,
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
    err_set(err, kind, status, code, msg);
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
        err_set(err, GG_ADMIN_E_CANCELLED, 0, "", "cancelled");
        break;
    case CURLE_WRITE_ERROR:
        err_set(err, GG_ADMIN_E_NOMEM, 0, "", "reply too large");
        break;
    case CURLE_OUT_OF_MEMORY:
        err_set(err, GG_ADMIN_E_NOMEM, 0, "", msg);
        break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        err_set(err, GG_ADMIN_E_ARG, 0, "", msg);
        break;
    default:
        err_set(err, GG_ADMIN_E_CONNECT, 0, "", msg);
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
        err_set(err, GG_ADMIN_E_NOMEM, 0, "", "cannot create a transfer");
        goto out;
    }
    hdrs = make_headers(c, body ? (content_type ? content_type : "application/json") : NULL,
                        "application/json");
    if (!hdrs) {
        err_set(err, GG_ADMIN_E_NOMEM, 0, "", "cannot build headers");
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
            err_set(err, GG_ADMIN_E_NOMEM, status, "", "cannot allocate");
        goto out;
    }
    res = cJSON_ParseWithLength(x.body.p, x.body.len);
    if (!res) {
        err_set(err, GG_ADMIN_E_PARSE, status, "", "reply is not valid JSON");
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

/* ---- route helpers ------------------------------------------------------- */

int gg_admin_urlencode(struct gg_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            if (gg_buf_addc(b, (char)*p) < 0)
                return -1;
        } else {
            char t[3] = { '%', hex[*p >> 4], hex[*p & 15] };
            if (gg_buf_add(b, t, 3) < 0)
                return -1;
        }
    }
    return 0;
}

static int add_query(struct gg_buf *b, bool *first, const char *name, const char *value)
{
    if (!value || !*value)
        return 0;
    if (gg_buf_printf(b, "%c%s=", *first ? '?' : '&', name) < 0)
        return -1;
    *first = false;
    return gg_admin_urlencode(b, value);
}

static cJSON *call_path(const struct gg_admin_client *c, const char *method, struct gg_buf *path,
                        const char *body, size_t len, const char *ctype, bool slow,
                        struct gg_admin_error *err)
{
    cJSON *r = gg_admin_call(c, method, path->p, body, len, ctype, slow, NULL, err);
    gg_buf_free(path);
    return r;
}

static cJSON *nomem(struct gg_buf *b, struct gg_admin_error *err)
{
    gg_buf_free(b);
    err_set(err, GG_ADMIN_E_NOMEM, 0, "", "cannot build request");
    return NULL;
}

cJSON *gg_admin_accounts_list(const struct gg_admin_client *c, const char *status,
                              const char *q, struct gg_admin_error *err)
{
    struct gg_buf p;
    bool first = true;
    gg_buf_init(&p, 4096);
    if (gg_buf_adds(&p, "/api/admin/accounts") < 0 || add_query(&p, &first, "status", status) < 0 ||
        add_query(&p, &first, "q", q) < 0)
        return nomem(&p, err);
    return call_path(c, "GET", &p, NULL, 0, NULL, false, err);
}

static cJSON *account_op(const struct gg_admin_client *c, const char *method, long long id,
                         const char *op, const cJSON *fields, bool slow, struct gg_admin_error *err)
{
    struct gg_buf p;
    char *body = NULL;
    gg_buf_init(&p, 256);
    if (gg_buf_printf(&p, "/api/admin/accounts/%lld%s%s", id, op ? "/" : "", op ? op : "") < 0)
        return nomem(&p, err);
    if (fields) {
        body = cJSON_PrintUnformatted(fields);
        if (!body)
            return nomem(&p, err);
    }
    cJSON *r = call_path(c, method, &p, body, body ? strlen(body) : 0, NULL, slow, err);
    cJSON_free(body);
    return r;
}

cJSON *gg_admin_account_get(const struct gg_admin_client *c, long long id, struct gg_admin_error *err)
{
    return account_op(c, "GET", id, NULL, NULL, false, err);
}

cJSON *gg_admin_account_create(const struct gg_admin_client *c, const cJSON *fields,
                               struct gg_admin_error *err)
{
    char *body = cJSON_PrintUnformatted(fields);
    if (!body) {
        err_set(err, GG_ADMIN_E_NOMEM, 0, "", "cannot build request");
        return NULL;
    }
    cJSON *r = gg_admin_call(c, "POST", "/api/admin/accounts", body, strlen(body), NULL, false,
                             NULL, err);
    cJSON_free(body);
    return r;
}

cJSON *gg_admin_account_update(const struct gg_admin_client *c, long long id, const cJSON *fields,
                               struct gg_admin_error *err)
{
    return account_op(c, "PUT", id, NULL, fields, false, err);
}

cJSON *gg_admin_account_delete(const struct gg_admin_client *c, long long id, struct gg_admin_error *err)
{
    return account_op(c, "DELETE", id, NULL, NULL, false, err);
}

cJSON *gg_admin_account_enable(const struct gg_admin_client *c, long long id, struct gg_admin_error *err)
{
    return account_op(c, "POST", id, "enable", NULL, false, err);
}

cJSON *gg_admin_account_disable(const struct gg_admin_client *c, long long id, const char *reason,
                                struct gg_admin_error *err)
{
    cJSON *f = NULL;
    if (reason) {
        f = cJSON_CreateObject();
        if (!f || !cJSON_AddStringToObject(f, "reason", reason)) {
            cJSON_Delete(f);
            err_set(err, GG_ADMIN_E_NOMEM, 0, "", "cannot build request");
            return NULL;
        }
    }
    cJSON *r = account_op(c, "POST", id, "disable", f, false, err);
    cJSON_Delete(f);
    return r;
}

cJSON *gg_admin_account_reset(const struct gg_admin_client *c, long long id, struct gg_admin_error *err)
{
    return account_op(c, "POST", id, "reset", NULL, false, err);
}

cJSON *gg_admin_account_test(const struct gg_admin_client *c, long long id, struct gg_admin_error *err)
{
    return account_op(c, "POST", id, "test", NULL, true, err);
}

cJSON *gg_admin_import(const struct gg_admin_client *c, const char *text, size_t len,
                       struct gg_admin_error *err)
{
    return gg_admin_call(c, "POST", "/api/admin/accounts/import", text ? text : "", text ? len : 0,
                         "text/plain; charset=utf-8", true, NULL, err);
}

cJSON *gg_admin_stats(const struct gg_admin_client *c, const char *window, struct gg_admin_error *err)
{
    struct gg_buf p;
    bool first = true;
    gg_buf_init(&p, 256);
    if (gg_buf_adds(&p, "/api/admin/stats") < 0 || add_query(&p, &first, "window", window) < 0)
        return nomem(&p, err);
    return call_path(c, "GET", &p, NULL, 0, NULL, false, err);
}

cJSON *gg_admin_logs(const struct gg_admin_client *c, const struct gg_admin_log_query *q,
                     struct gg_admin_error *err)
{
    struct gg_buf p;
    bool first = true;
    char num[32];
    gg_buf_init(&p, 4096);
    if (gg_buf_adds(&p, "/api/admin/logs") < 0)
        return nomem(&p, err);
    if (q) {
        if (q->limit > 0) {
            snprintf(num, sizeof(num), "%d", q->limit);
            if (add_query(&p, &first, "limit", num) < 0)
                return nomem(&p, err);
        }
        if (q->account_id >= 0) {
            snprintf(num, sizeof(num), "%lld", q->account_id);
            if (add_query(&p, &first, "account_id", num) < 0)
                return nomem(&p, err);
        }
        if (add_query(&p, &first, "model", q->model) < 0 ||
            add_query(&p, &first, "status", q->status) < 0 ||
            add_query(&p, &first, "since", q->since) < 0)
            return nomem(&p, err);
    }
    return call_path(c, "GET", &p, NULL, 0, NULL, false, err);
}

cJSON *gg_admin_overview(const struct gg_admin_client *c, struct gg_admin_error *err)
{
    return gg_admin_call(c, "GET", "/api/admin/overview", NULL, 0, NULL, false, NULL, err);
}

/* ---- SSE parser ---------------------------------------------------------- */

void gg_sse_init(struct gg_sse_parser *p, size_t max_line)
{
    memset(p, 0, sizeof(*p));
    if (!max_line)
        max_line = SSE_LINE_MAX;
    gg_buf_init(&p->line, max_line);
    gg_buf_init(&p->event, 256);
    gg_buf_init(&p->data, max_line * 4);
}

void gg_sse_free(struct gg_sse_parser *p)
{
    gg_buf_free(&p->line);
    gg_buf_free(&p->event);
    gg_buf_free(&p->data);
}

/* Handle one complete line (without its terminator). */
static int sse_line(struct gg_sse_parser *p, const char *l, size_t n, gg_sse_cb cb, void *ctx)
{
    if (n == 0) {
        int rc = 0;
        if (p->have_data)
            rc = cb(ctx, p->event.len ? p->event.p : "message", p->data.p ? p->data.p : "",
                    p->data.len);
        gg_buf_reset(&p->event);
        gg_buf_reset(&p->data);
        p->have_data = false;
        return rc;
    }
    if (l[0] == ':')
        return 0;
    const char *colon = memchr(l, ':', n);
    size_t fn = colon ? (size_t)(colon - l) : n;
    const char *v = colon ? colon + 1 : l + n;
    size_t vn = colon ? n - fn - 1 : 0;
    if (vn > 0 && v[0] == ' ') {
        v++;
        vn--;
    }
    if (fn == 5 && memcmp(l, "event", 5) == 0) {
        gg_buf_reset(&p->event);
        if (gg_buf_add(&p->event, v, vn) < 0)
            return -1;
    } else if (fn == 4 && memcmp(l, "data", 4) == 0) {
        if (p->have_data && gg_buf_addc(&p->data, '\n') < 0)
            return -1;
        if (gg_buf_add(&p->data, v, vn) < 0)
            return -1;
        p->have_data = true;
    }
    /* "id", "retry" and unknown fields are ignored */
    return 0;
}

int gg_sse_feed(struct gg_sse_parser *p, const char *buf, size_t n, gg_sse_cb cb, void *ctx)
{
    size_t i = 0;
    if (p->broken)
        return -1;
    while (i < n) {
        if (p->skip_lf) {
            p->skip_lf = false;
            if (buf[i] == '\n') {
                i++;
                continue;
            }
        }
        size_t j = i;
        while (j < n && buf[j] != '\n' && buf[j] != '\r')
            j++;
        if (j == n) { /* partial line: keep it */
            if (gg_buf_add(&p->line, buf + i, n - i) < 0)
                goto broken;
            return 0;
        }
        int rc;
        if (p->line.len) {
            if (gg_buf_add(&p->line, buf + i, j - i) < 0)
                goto broken;
            rc = sse_line(p, p->line.p, p->line.len, cb, ctx);
            gg_buf_reset(&p->line);
        } else {
            rc = sse_line(p, buf + i, j - i, cb, ctx);
        }
        if (buf[j] == '\r')
            p->skip_lf = true;
        i = j + 1;
        if (rc < 0)
            goto broken;
        if (rc)
            return rc;
    }
    return 0;
broken:
    p->broken = true;
    return -1;
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
        err_set(err, GG_ADMIN_E_NOMEM, 0, "", "cannot create a transfer");
        goto out;
    }
    hdrs = make_headers(c, NULL, "text/event-stream");
    if (!hdrs) {
        err_set(err, GG_ADMIN_E_NOMEM, 0, "", "cannot build headers");
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
        err_set(err, GG_ADMIN_E_PARSE, s.status, "", "malformed event stream");
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

/* ---- asynchronous front end ---------------------------------------------- */

struct job {
    struct job *next;
    long id;
    int tag;
    char *method;
    char *path;
    char *body;
    size_t body_len;
    char *ctype;
    bool slow;
};

struct gg_admin_async {
    struct gg_admin_client cli;
    pthread_mutex_t mu;
    pthread_cond_t cv;          /* workers wait for jobs */
    pthread_cond_t sse_cv;      /* stream thread back-off wait */
    struct job *jhead, *jtail;
    struct gg_admin_result *rhead, *rtail;
    int pipefd[2];
    volatile int cancel;        /* read by curl progress callbacks */
    atomic_int stop;
    pthread_t th[8];
    int nth;
    pthread_t sse_th;
    bool sse_started;           /* a thread was created (needs join) */
    atomic_bool sse_running;
    long next_id;
    int pending;
};

static void job_free(struct job *j)
{
    if (!j)
        return;
    free(j->method);
    free(j->path);
    free(j->body);
    free(j->ctype);
    free(j);
}

void gg_admin_result_free(struct gg_admin_result *r)
{
    if (!r)
        return;
    free(r->event);
    cJSON_Delete(r->json);
    free(r);
}

/* Queue a result and wake the reader.  Takes ownership of r. */
static void post_result(struct gg_admin_async *a, struct gg_admin_result *r)
{
    pthread_mutex_lock(&a->mu);
    r->next = NULL;
    if (a->rtail)
        a->rtail->next = r;
    else
        a->rhead = r;
    a->rtail = r;
    pthread_mutex_unlock(&a->mu);
    char one = 1;
    ssize_t w = write(a->pipefd[1], &one, 1); /* EAGAIN: already readable */
    (void)w;
}

static void *worker_main(void *arg)
{
    struct gg_admin_async *a = arg;
    for (;;) {
        pthread_mutex_lock(&a->mu);
        while (!atomic_load(&a->stop) && !a->jhead)
            pthread_cond_wait(&a->cv, &a->mu);
        if (atomic_load(&a->stop)) {
            pthread_mutex_unlock(&a->mu);
            break;
        }
        struct job *j = a->jhead;
        a->jhead = j->next;
        if (!a->jhead)
            a->jtail = NULL;
        pthread_mutex_unlock(&a->mu);

        struct gg_admin_result *r = calloc(1, sizeof(*r));
        if (r) {
            r->type = GG_ADMIN_RES_REPLY;
            r->id = j->id;
            r->tag = j->tag;
            r->json = gg_admin_call(&a->cli, j->method, j->path, j->body, j->body_len, j->ctype,
                                    j->slow, &a->cancel, &r->err);
            post_result(a, r);
        }
        job_free(j);
    }
    return NULL;
}

struct gg_admin_async *gg_admin_async_new(const struct gg_admin_client *c, int nthreads)
{
    struct gg_admin_async *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->pipefd[0] = a->pipefd[1] = -1;
    if (gg_admin_client_copy(&a->cli, c) < 0)
        goto fail;
    if (pipe(a->pipefd) < 0)
        goto fail;
    for (int i = 0; i < 2; i++) {
        fcntl(a->pipefd[i], F_SETFL, fcntl(a->pipefd[i], F_GETFL) | O_NONBLOCK);
        fcntl(a->pipefd[i], F_SETFD, FD_CLOEXEC);
    }
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->sse_cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&a->stop, 0);
    atomic_init(&a->sse_running, false);
    a->next_id = 1;
    if (nthreads < 1)
        nthreads = 1;
    if (nthreads > 8)
        nthreads = 8;
    for (int i = 0; i < nthreads; i++) {
        if (pthread_create(&a->th[i], NULL, worker_main, a) != 0)
            break;
        a->nth++;
    }
    if (a->nth == 0) {
        gg_admin_async_free(a);
        return NULL;
    }
    return a;
fail:
    if (a->pipefd[0] >= 0)
        close(a->pipefd[0]);
    if (a->pipefd[1] >= 0)
        close(a->pipefd[1]);
    gg_admin_client_free(&a->cli);
    free(a);
    return NULL;
}

void gg_admin_async_free(struct gg_admin_async *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    atomic_store(&a->stop, 1);
    a->cancel = 1;
    pthread_cond_broadcast(&a->cv);
    pthread_cond_broadcast(&a->sse_cv);
    pthread_mutex_unlock(&a->mu);
    for (int i = 0; i < a->nth; i++)
        pthread_join(a->th[i], NULL);
    if (a->sse_started)
        pthread_join(a->sse_th, NULL);
    while (a->jhead) {
        struct job *j = a->jhead;
        a->jhead = j->next;
        job_free(j);
    }
    while (a->rhead) {
        struct gg_admin_result *r = a->rhead;
        a->rhead = r->next;
        gg_admin_result_free(r);
    }
    pthread_cond_destroy(&a->cv);
    pthread_cond_destroy(&a->sse_cv);
    pthread_mutex_destroy(&a->mu);
    close(a->pipefd[0]);
    close(a->pipefd[1]);
    gg_admin_client_free(&a->cli);
    free(a);
}

int gg_admin_async_fd(const struct gg_admin_async *a)
{
    return a->pipefd[0];
}

void gg_admin_async_drain_fd(struct gg_admin_async *a)
{
    char buf[256];
    while (read(a->pipefd[0], buf, sizeof(buf)) > 0)
        ;
}

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

long gg_admin_async_submit(struct gg_admin_async *a, const char *method, const char *path,
                           const char *body, size_t body_len, const char *content_type,
                           bool slow, int tag)
{
    struct job *j = calloc(1, sizeof(*j));
    if (!j)
        return -1;
    j->method = strdup(method);
    j->path = strdup(path);
    if (body) {
        j->body = dup_n(body, body_len);
        j->body_len = body_len;
    }
    if (content_type)
        j->ctype = strdup(content_type);
    if (!j->method || !j->path || (body && !j->body) || (content_type && !j->ctype)) {
        job_free(j);
        return -1;
    }
    j->tag = tag;
    j->slow = slow;
    pthread_mutex_lock(&a->mu);
    j->id = a->next_id++;
    if (a->jtail)
        a->jtail->next = j;
    else
        a->jhead = j;
    a->jtail = j;
    a->pending++;
    long id = j->id;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    return id;
}

int gg_admin_async_pending(struct gg_admin_async *a)
{
    pthread_mutex_lock(&a->mu);
    int n = a->pending;
    pthread_mutex_unlock(&a->mu);
    return n;
}

struct gg_admin_result *gg_admin_async_take(struct gg_admin_async *a)
{
    pthread_mutex_lock(&a->mu);
    struct gg_admin_result *r = a->rhead;
    if (r) {
        a->rhead = r->next;
        if (!a->rhead)
            a->rtail = NULL;
        r->next = NULL;
        if (r->type == GG_ADMIN_RES_REPLY && a->pending > 0)
            a->pending--;
    }
    pthread_mutex_unlock(&a->mu);
    return r;
}

static int sse_event_cb(void *ctx, const char *event, const char *data, size_t len)
{
    struct gg_admin_async *a = ctx;
    if (atomic_load(&a->stop))
        return 1;
    struct gg_admin_result *r = calloc(1, sizeof(*r));
    if (!r)
        return 0; /* drop the event, keep the stream */
    r->type = GG_ADMIN_RES_EVENT;
    r->event = strdup(event);
    r->json = cJSON_ParseWithLength(data, len);
    post_result(a, r);
    return 0;
}

static void sse_open_cb(void *ctx)
{
    struct gg_admin_async *a = ctx;
    struct gg_admin_result *r = calloc(1, sizeof(*r));
    if (!r)
        return;
    r->type = GG_ADMIN_RES_STREAM_UP;
    post_result(a, r);
}

static void *stream_main(void *arg)
{
    struct gg_admin_async *a = arg;
    long backoff_ms = 1000;
    while (!atomic_load(&a->stop)) {
        struct gg_admin_error err;
        int64_t t0 = 0;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        t0 = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        enum gg_admin_kind k = gg_admin_logs_stream(&a->cli, sse_event_cb, sse_open_cb, a,
                                                    &a->cancel, &err);
        if (atomic_load(&a->stop))
            break;
        bool give_up = (k == GG_ADMIN_E_AUTH || k == GG_ADMIN_E_LOCKED || k == GG_ADMIN_E_ARG);
        struct gg_admin_result *r = calloc(1, sizeof(*r));
        if (r) {
            r->type = GG_ADMIN_RES_STREAM_DOWN;
            r->err = err;
            if (k == GG_ADMIN_OK)
                snprintf(r->err.message, sizeof(r->err.message), "stream closed by server");
            r->stopped = give_up;
            post_result(a, r);
        }
        if (give_up)
            break;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        if ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - t0 > 30000)
            backoff_ms = 1000; /* it was up for a while: reconnect quickly */
        /* wait backoff_ms or until stopped */
        struct timespec until = ts;
        until.tv_sec += backoff_ms / 1000;
        until.tv_nsec += (backoff_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&a->mu);
        while (!atomic_load(&a->stop)) {
            if (pthread_cond_timedwait(&a->sse_cv, &a->mu, &until) == ETIMEDOUT)
                break;
        }
        pthread_mutex_unlock(&a->mu);
        backoff_ms = backoff_ms * 2 > 15000 ? 15000 : backoff_ms * 2;
    }
    atomic_store(&a->sse_running, false);
    return NULL;
}

int gg_admin_async_stream_start(struct gg_admin_async *a)
{
    if (atomic_load(&a->sse_running))
        return 0;
    if (a->sse_started) {
        pthread_join(a->sse_th, NULL); /* finished: reap it */
        a->sse_started = false;
    }
    atomic_store(&a->sse_running, true);
    if (pthread_create(&a->sse_th, NULL, stream_main, a) != 0) {
        atomic_store(&a->sse_running, false);
        return -1;
    }
    a->sse_started = true;
    return 0;
}

bool gg_admin_async_stream_running(struct gg_admin_async *a)
{
    return atomic_load(&a->sse_running);
}
