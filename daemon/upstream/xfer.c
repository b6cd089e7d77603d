/* xfer.c -- see up.h: one libcurl transfer, and the idle easy handles of
 * this loop (createSession / streamAssist reuse them). */
#include "up.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gg_time.h"
#include "jwt.h"

/* Idle easy handles of this loop thread (reset, no transfer attached). */
static __thread CURL *idle_easy[XFER_IDLE_MAX];
static __thread int n_idle;

static bool reusable_kind(int kind)
{
    return kind == X_SESSION || kind == X_STREAM;
}

int up_xfer_idle_count(void) { return n_idle; }

void up_xfer_idle_free(void)
{
    while (n_idle > 0) {
        curl_easy_cleanup(idle_easy[--n_idle]);
        idle_easy[n_idle] = NULL;
    }
}

void up_xfer_free(struct xfer *x)
{
    if (!x)
        return;
    if (x->easy) {
        up_curl_remove(x->easy);
        /* only a handle whose transfer ran to its end: nothing paused or
         * half-read left in it; the reset drops every option (headers,
         * body, private pointer, callbacks) before it waits for reuse */
        if (x->done_ok && reusable_kind(x->kind) && n_idle < XFER_IDLE_MAX && !up_draining()) {
            curl_easy_reset(x->easy);
            idle_easy[n_idle++] = x->easy;
        } else {
            curl_easy_cleanup(x->easy);
        }
    }
    curl_slist_free_all(x->hdrs);
    if (x->auth_hdr) {
        explicit_bzero(x->auth_hdr, strlen(x->auth_hdr));
        free(x->auth_hdr);
    }
    curl_slist_free_all(x->resolve);
    free(x->post);
    gg_buf_free(&x->resp);
    if (x->set_ses) {
        explicit_bzero(x->set_ses, strlen(x->set_ses));
        free(x->set_ses);
    }
    if (x->set_oses) {
        explicit_bzero(x->set_oses, strlen(x->set_oses));
        free(x->set_oses);
    }
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
size_t up_write_capped(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    if (gg_buf_add(&x->resp, ptr, n) != 0) {
        x->too_large = true;
        return 0;
    }
    return n;
}

/* "Set-Cookie: NAME=VALUE; attrs": the value of one of the two cookies. */
static void take_cookie(char **dst, const char *v, size_t n)
{
    size_t k = 0;
    while (k < n && v[k] != ';' && v[k] != '\r' && v[k] != '\n' && v[k] != ' ')
        k++;
    if (k == 0 || k > 8192)
        return;
    char *s = malloc(k + 1);
    if (!s)
        return;
    memcpy(s, v, k);
    s[k] = '\0';
    if (*dst) {
        explicit_bzero(*dst, strlen(*dst));
        free(*dst);
    }
    *dst = s;
}

size_t up_header_cookies(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    static const char h[] = "set-cookie:";
    if (n <= sizeof(h) || strncasecmp(ptr, h, sizeof(h) - 1) != 0)
        return n;
    const char *v = ptr + sizeof(h) - 1;
    size_t left = n - (sizeof(h) - 1);
    while (left && (*v == ' ' || *v == '\t')) {
        v++;
        left--;
    }
    static const char ses[] = "__Secure-C_SES=", oses[] = "__Host-C_OSES=";
    if (left > sizeof(ses) - 1 && strncmp(v, ses, sizeof(ses) - 1) == 0)
        take_cookie(&x->set_ses, v + sizeof(ses) - 1, left - (sizeof(ses) - 1));
    else if (left > sizeof(oses) - 1 && strncmp(v, oses, sizeof(oses) - 1) == 0)
        take_cookie(&x->set_oses, v + sizeof(oses) - 1, left - (sizeof(oses) - 1));
    return n;
}

/* A header whose text outlives the transfer (a string literal or
 * x->auth_hdr): a node inside the xfer, no allocation.  Fixed headers go
 * before the copied ones (up_xfer_header), so add them first. */
static void fixed_header(struct xfer *x, const char *h)
{
    if (x->n_fixed == XFER_FIXED_HDRS || x->hdrs) {
        up_xfer_header(x, h);
        return;
    }
    x->fixed[x->n_fixed].data = (char *)h;      /* curl only reads it */
    x->fixed[x->n_fixed].next = NULL;
    x->n_fixed++;
}

struct xfer *up_xfer_new(int kind, const char *url, const char *proxy)
{
    struct xfer *x = calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    x->kind = kind;
    x->t0_ms = gg_mono_ms();
    gg_buf_init(&x->resp, 1u << 20);
    x->easy = reusable_kind(kind) && n_idle > 0 ? idle_easy[--n_idle] : curl_easy_init();
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
    if (reusable_kind(kind))
        curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 8192L);   /* one size for every reused handle; small answers */
    fixed_header(x, "user-agent: " UA);
    fixed_header(x, "origin: https://business.gemini.google");
    fixed_header(x, "referer: https://business.gemini.google/");
    fixed_header(x, "accept-language: en-US,en;q=0.9");
    fixed_header(x, "accept: */*");
    return x;
}

void up_xfer_header(struct xfer *x, const char *h)
{
    struct curl_slist *l = curl_slist_append(x->hdrs, h);
    if (l)
        x->hdrs = l;
    else
        x->oom = true;
}

void up_xfer_clear_headers(struct xfer *x)
{
    x->n_fixed = 0;
    curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
}

bool up_xfer_start(struct xfer *x)
{
    if (x->oom)
        return false;
    /* the fixed nodes first, in the order added, then the copied ones */
    for (size_t i = 0; i < x->n_fixed; i++)
        x->fixed[i].next = i + 1 < x->n_fixed ? &x->fixed[i + 1] : x->hdrs;
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->n_fixed ? &x->fixed[0] : x->hdrs);
    if (x->post) {
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->post);
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(x->post));
    }
    return up_curl_add(x->easy) == 0;
}

void up_start_for(struct call *c, struct xfer *x)
{
    x->call = c;
    c->xfer = x;
    if (up_xfer_start(x))
        return;
    c->xfer = NULL;
    up_xfer_free(x);
    up_finish_err(c, 500, NULL, 0, "upstream", "out of memory starting an upstream request");
    up_call_done(c);
}

/* A JWT signed now from the account's key: never the one of an earlier call. */
void up_api_headers(struct xfer *x, const struct account *a)
{
    static const char pre[] = "authorization: Bearer ";
    char jwt[JWT_MAX];
    int n = up_sign_jwt(a, jwt, sizeof(jwt));
    if (n < 0) {
        jwt[0] = '\0';          /* no key: the upstream answers 401, handled as such */
        n = 0;
    }
    char *h = x->auth_hdr ? NULL : malloc(sizeof(pre) + (size_t)n);
    if (h) {
        memcpy(h, pre, sizeof(pre) - 1);
        memcpy(h + sizeof(pre) - 1, jwt, (size_t)n + 1);
        x->auth_hdr = h;
        fixed_header(x, h);
    } else {
        x->oom = true;
    }
    explicit_bzero(jwt, sizeof(jwt));
    fixed_header(x, "content-type: application/json");
    fixed_header(x, "x-server-timeout: 1800");
    fixed_header(x, "sec-fetch-dest: empty");
    fixed_header(x, "sec-fetch-mode: cors");
    fixed_header(x, "sec-fetch-site: cross-site");
}

