/* http.c -- see http.h */
#include "http.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "gg_log.h"
#include "gg_time.h"
#include "gg_util.h"
#include "http_static.h"

/* MHD's per-connection pool holds the request head (parsed in place) and
 * the response's write buffer; MHD touches all of it (it zeroes what a
 * shrink frees), so it costs its full size per open stream.  20 KiB keeps
 * request heads of about 9 KiB (an 8 KiB Cookie or Authorization plus the
 * usual headers; larger heads get 431) and chunked writes of up to ~20 KiB;
 * request bodies never live there (they go to http_req.body). */
#define HTTP_CONN_POOL (20 * 1024)

static struct MHD_Daemon *_Atomic daemon_h;
static uint16_t bound_port;
static char bound_host[64];
static const struct http_route *routes;
static size_t n_routes;
static atomic_uint_fast64_t requests_seen;

/* ---- headers and replies ------------------------------------------------------ */

static bool origin_allowed(const char *origin)
{
    if (!origin || !cfg.cors_origins || !*cfg.cors_origins)
        return false;
    if (strcmp(cfg.cors_origins, "*") == 0)
        return true;
    size_t ol = strlen(origin);
    const char *p = cfg.cors_origins;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        const char *e = p;
        while (*e && *e != ',') e++;
        const char *t = e;
        while (t > p && t[-1] == ' ') t--;
        if ((size_t)(t - p) == ol && strncmp(p, origin, ol) == 0)
            return true;
        p = e;
    }
    return false;
}

void http_add_common_headers(struct http_req *r, struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "x-request-id", r->request_id);
    const char *origin = http_header(r, "Origin");
    if (origin_allowed(origin) && strncmp(r->url, "/api/admin", 10) != 0) {
        MHD_add_response_header(resp, "Access-Control-Allow-Origin",
                                strcmp(cfg.cors_origins, "*") == 0 ? "*" : origin);
        MHD_add_response_header(resp, "Vary", "Origin");
        MHD_add_response_header(resp, "Access-Control-Expose-Headers", "x-request-id, retry-after");
    }
}

enum MHD_Result http_queue(struct http_req *r, int status, struct MHD_Response *resp)
{
    http_add_common_headers(r, resp);
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    r->status = status;
    return ret;
}

enum MHD_Result http_reply(struct http_req *r, int status, const char *ctype, const void *data, size_t n)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(n, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    if (ctype)
        MHD_add_response_header(resp, "Content-Type", ctype);
    return http_queue(r, status, resp);
}

enum MHD_Result http_reply_json(struct http_req *r, int status, const char *json, size_t n)
{
    return http_reply(r, status, "application/json", json, n);
}

enum MHD_Result http_reply_cjson(struct http_req *r, int status, cJSON *j)
{
    char *s = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (!s)
        return MHD_NO;
    enum MHD_Result ret = http_reply_json(r, status, s, strlen(s));
    free(s);
    return ret;
}

static enum MHD_Result reply_error_body(struct http_req *r, int status, struct gg_buf *b, int retry_after)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(b->len, b->p ? b->p : "", MHD_RESPMEM_MUST_COPY);
    gg_buf_free(b);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    if (retry_after > 0) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%d", retry_after);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    if (status == 400 || status == 404 || status == 401 || status == 413 || status == 415)
        MHD_add_response_header(resp, "x-should-retry", "false");
    return http_queue(r, status, resp);
}

enum MHD_Result http_reply_error(struct http_req *r, int status, const char *code, const char *msg,
                                 int retry_after)
{
    http_error_body_fn fn = r->route && r->route->error_body ? r->route->error_body
                            : n_routes && routes[0].error_body ? routes[0].error_body : NULL;
    struct gg_buf b;
    gg_buf_init(&b, 8192);
    if (fn) {
        fn(status, code, msg, &b);
    } else {       /* a table without envelopes: a minimal JSON error */
        gg_buf_adds(&b, "{\"error\":{\"message\":");
        gg_buf_add_json_str(&b, msg, strlen(msg));
        gg_buf_printf(&b, ",\"code\":\"%s\"}}", code ? code : "error");
    }
    return reply_error_body(r, status, &b, retry_after);
}

enum MHD_Result http_reply_sse(struct http_req *r, size_t block, MHD_ContentReaderCallback reader, void *cls,
                               MHD_ContentReaderFreeCallback free_cb)
{
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, block, reader, cls, free_cb);
    if (!resp) {
        if (free_cb)
            free_cb(cls);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream; charset=utf-8");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    return http_queue(r, 200, resp);
}

bool http_media_type_ok(const char *mime)
{
    static const char *const ok[] = {"image/png", "image/jpeg", "image/gif", "image/webp", "video/mp4",
                                     "video/webm", NULL};
    for (int i = 0; mime && ok[i]; i++)
        if (strcasecmp(mime, ok[i]) == 0)
            return true;
    return false;
}

enum MHD_Result http_reply_media(struct http_req *r, const char *mime, const void *data, size_t n,
                                 const char *cache_control)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(n, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    bool ok = http_media_type_ok(mime);
    MHD_add_response_header(resp, "Content-Type", ok ? mime : "application/octet-stream");
    if (!ok)
        MHD_add_response_header(resp, "Content-Disposition", "attachment");
    if (cache_control)
        MHD_add_response_header(resp, "Cache-Control", cache_control);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Content-Security-Policy", "default-src 'none'; sandbox");
    return http_queue(r, 200, resp);
}

const char *http_header(struct http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_query(struct http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_bearer(struct http_req *r, const char *alt_header)
{
    const char *h = http_header(r, "Authorization");
    if (h && strncasecmp(h, "Bearer ", 7) == 0) {
        h += 7;
        while (*h == ' ')
            h++;
        return h;
    }
    if (alt_header)
        return http_header(r, alt_header);
    return NULL;
}

/* ---- suspend / resume --------------------------------------------------------- */

void http_park(struct MHD_Connection *conn, bool *suspended)
{
    *suspended = true;
    MHD_suspend_connection(conn);
}

bool http_unpark(struct MHD_Connection *conn, bool *suspended, bool gone)
{
    if (!*suspended || gone || !conn)
        return false;
    *suspended = false;
    MHD_resume_connection(conn);
    return true;
}

/* ---- tickets ------------------------------------------------------------------ */

#define TICKETS 64
static pthread_mutex_t ticket_mu = PTHREAD_MUTEX_INITIALIZER;
static struct { char t[65]; int64_t expires_ms; } tickets[TICKETS];

int http_ticket_issue(char out[65])
{
    int64_t now = gg_mono_ms();
    int rc = -1;
    pthread_mutex_lock(&ticket_mu);
    for (int i = 0; i < TICKETS; i++)
        if (!tickets[i].t[0] || tickets[i].expires_ms <= now) {
            gg_random_hex(tickets[i].t, 32);
            tickets[i].expires_ms = now + HTTP_TICKET_TTL_S * 1000;
            memcpy(out, tickets[i].t, 65);
            rc = 0;
            break;
        }
    pthread_mutex_unlock(&ticket_mu);
    return rc;
}

bool http_ticket_take(const char *ticket)
{
    if (!ticket || strlen(ticket) != 64)
        return false;
    int64_t now = gg_mono_ms();
    bool ok = false;
    pthread_mutex_lock(&ticket_mu);
    for (int i = 0; i < TICKETS; i++) {
        bool match = tickets[i].t[0] && gg_ct_equal(tickets[i].t, 64, ticket, 64);
        if (match) {
            ok = tickets[i].expires_ms > now;
            memset(&tickets[i], 0, sizeof(tickets[i]));
        }
    }
    pthread_mutex_unlock(&ticket_mu);
    return ok;
}

enum MHD_Result http_ticket_handle(struct http_req *r)
{
    char t[65];
    if (http_ticket_issue(t) != 0)
        return http_reply_error(r, 503, "busy", "too many open tickets; retry shortly", 5);
    char body[160];
    int n = snprintf(body, sizeof(body), "{\"ticket\":\"%s\",\"expires_in\":%d}", t, HTTP_TICKET_TTL_S);
    return http_reply(r, 200, "application/json", body, (size_t)n);
}

/* ---- admission ------------------------------------------------------------------ */


static enum MHD_Result http_preflight(struct http_req *r)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    const char *origin = http_header(r, "Origin");
    if (origin_allowed(origin)) {
        MHD_add_response_header(resp, "Access-Control-Allow-Origin",
                                strcmp(cfg.cors_origins, "*") == 0 ? "*" : origin);
        MHD_add_response_header(resp, "Vary", "Origin");
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
        MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                "authorization, content-type, x-api-key, anthropic-version, anthropic-beta, anthropic-dangerous-direct-browser-access, x-goog-api-key, x-goog-api-client, openai-organization, openai-project, x-stainless-os, x-stainless-lang, x-stainless-package-version, x-stainless-runtime, x-stainless-runtime-version, x-stainless-arch, x-stainless-retry-count, x-stainless-timeout");
        MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
    }
    MHD_add_response_header(resp, "x-request-id", r->request_id);
    enum MHD_Result ret = MHD_queue_response(r->conn, 204, resp);
    MHD_destroy_response(resp);
    r->status = 204;
    return ret;
}

/* Host names this machine answers to when no API key is configured: a page
 * on another site that rebinds its DNS name to us still sends its own name. */
bool http_host_names_us(const char *h)
{
    if (!h || !*h)
        return true; /* HTTP/1.0 without Host: not a browser */
    char name[256];
    size_t n;
    if (*h == '[') {
        const char *e = strchr(h, ']');
        if (!e)
            return false;
        n = (size_t)(e - h + 1);
    } else {
        n = strcspn(h, ":");
    }
    if (n == 0 || n >= sizeof(name))
        return false;
    memcpy(name, h, n);
    name[n] = '\0';
    static const char *const local[] = {"localhost", "127.0.0.1", "[::1]", NULL};
    for (int i = 0; local[i]; i++)
        if (strcasecmp(name, local[i]) == 0)
            return true;
    if (strcasecmp(name, bound_host) == 0 && strcmp(bound_host, "0.0.0.0") != 0 && strcmp(bound_host, "::") != 0)
        return true;
    if (name[0] == '[' && n == strlen(bound_host) + 2 && strncasecmp(name + 1, bound_host, n - 2) == 0)
        return true;
    char me[256];
    if (gethostname(me, sizeof(me)) == 0 && (me[sizeof(me) - 1] = '\0', strcasecmp(name, me) == 0))
        return true;
    const char *pu = cfg.public_url;
    if (pu && *pu) {
        const char *p = strstr(pu, "://");
        p = p ? p + 3 : pu;
        size_t pl = *p == '[' ? strcspn(p, "]") + 1 : strcspn(p, ":/");
        if (pl == n && strncasecmp(p, name, n) == 0)
            return true;
    }
    return false;
}

static bool methods_has(const char *list, const char *m)
{
    size_t ml = strlen(m);
    for (const char *p = list; *p;) {
        size_t l = strcspn(p, " ");
        if (l == ml && strncmp(p, m, ml) == 0)
            return true;
        p += l;
        while (*p == ' ')
            p++;
    }
    return false;
}

static bool path_matches(const struct http_route *rt, const char *url)
{
    if (!rt->prefix)
        return strcmp(url, rt->path) == 0;
    size_t l = strlen(rt->path);
    if (strncmp(url, rt->path, l) != 0)
        return false;
    return (l && rt->path[l - 1] == '/') || url[l] == '\0' || url[l] == '/';
}

const struct http_route *http_route_find(const struct http_route *t, size_t n, const char *url)
{
    for (size_t i = 0; i < n; i++)
        if (path_matches(&t[i], url))
            return &t[i];
    return NULL;
}

static const struct http_route not_found_route = {NULL, "", false, HTTP_AUTH_NONE, 0, false, false, NULL, NULL, NULL, NULL};

static enum MHD_Result refuse(struct http_req *r, int status, const char *code, const char *msg, int retry_after)
{
    r->refused = true;
    GG_DEBUG("%s %s %s refused: %d %s", r->request_id, r->method, r->url, status, code);
    return http_reply_error(r, status, code, msg, retry_after);
}

static bool is_json_type(const char *ct)
{
    size_t l = strcspn(ct, ";");
    while (l && (ct[l - 1] == ' ' || ct[l - 1] == '\t'))
        l--;
    while (l && (*ct == ' ' || *ct == '\t')) {
        ct++;
        l--;
    }
    return (l == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
           (l > 5 && strncasecmp(ct + l - 5, "+json", 5) == 0);
}

static http_key_hook_fn key_hook;

void http_set_key_hook(http_key_hook_fn fn)
{
    key_hook = fn;
}

static enum MHD_Result check_auth(struct http_req *r, bool *ok)
{
    *ok = false;
    const struct http_route *rt = r->route;
    switch (rt->auth) {
    case HTTP_AUTH_NONE:
        break;
    case HTTP_AUTH_API: {
        const char *tok = rt->api_key ? rt->api_key(r) : http_bearer(r, "x-api-key");
        char kmsg[256];
        const char *kcode = "invalid_api_key";
        int kh = key_hook ? key_hook(tok, r->key_id, &kcode, kmsg, sizeof(kmsg)) : -1;
        if (kh == 0)
            return refuse(r, 401, kcode, kmsg, 0);
        if (kh < 0 && !auth_check_api(tok, r->key_id)) {
            bool none = !tok || !*tok;
            return refuse(r, 401, none ? "missing_api_key" : "invalid_api_key",
                          none ? "You didn't provide an API key. You need to provide your API key in an Authorization "
                                 "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
                               : "Incorrect API key provided. You can find your API key in the gateway's configuration (API_KEY).",
                          0);
        }
        break;
    }
    case HTTP_AUTH_ADMIN: {
        const char *tok = http_bearer(r, "x-admin-key");
        if ((!tok || !*tok) && rt->ticket_ok) {
            const char *t = http_query(r, "ticket");
            if (t && *t) {
                if (!http_ticket_take(t))
                    return refuse(r, 401, "unauthorized", "unknown, used or expired ticket", 0);
                break;
            }
            tok = http_query(r, "key"); /* deprecated: keys in URLs end up in proxy logs */
            if (tok && *tok)
                GG_WARN("%s: admin key in the query string is deprecated; use a ticket", r->request_id);
        }
        /* the lockout counts per client: the peer, or behind TRUSTED_PROXIES
         * the right-most untrusted X-Forwarded-For address; IPv6 per /64 */
        char who[64];
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        auth_client_addr(ci ? ci->client_addr : NULL, http_header(r, "x-forwarded-for"), who);
        int a = auth_check_admin(tok, who);
        if (a > 0) {
            char msg[120];
            snprintf(msg, sizeof(msg), "too many bad admin keys from this address; retry in %d s", a);
            return refuse(r, 429, "locked_out", msg, a);
        }
        if (a < 0)
            return refuse(r, 401, "unauthorized", "missing or wrong admin key", 0);
        break;
    }
    case HTTP_AUTH_METRICS: {
        const char *want = cfg.metrics_key;
        if (want && *want) {
            const char *tok = http_bearer(r, NULL);
            if (!tok || !gg_ct_equal(tok, strlen(tok), want, strlen(want)))
                return refuse(r, 401, "unauthorized", "missing or wrong metrics key (METRICS_KEY)", 0);
        }
        break;
    }
    }
    r->authed = true;
    *ok = true;
    return MHD_YES;
}

static void extend_timeout(struct http_req *r)
{
    int64_t left = (r->deadline_ms - gg_mono_ms() + 999) / 1000;
    MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)(left > 0 ? left : 1));
}

/* The first callback: headers are in, no body byte has been read. */
static enum MHD_Result admit(struct http_req *r)
{
    r->route = &not_found_route;
    if (!auth_api_required() && !http_host_names_us(http_header(r, "Host")))
        return refuse(r, 421, "host_not_allowed",
                      "this gateway runs without an API key and answers only to Host names of this machine "
                      "(set API_KEY, or PUBLIC_URL for another name)", 0);
    bool options = strcmp(r->method, "OPTIONS") == 0;
    const struct http_route *found = http_route_find(routes, n_routes, r->url);
    if (!found && !options) {
        char msg[300];
        snprintf(msg, sizeof(msg), "Unknown route: %s %.200s", r->method, r->url);
        return refuse(r, 404, "not_found", msg, 0);
    }
    if (found)
        r->route = found;
    /* body limits apply to every route, preflights included */
    int64_t limit = options || !found ? 0 : found->max_body == HTTP_BODY_MAX ? cfg.max_body : found->max_body;
    const char *cl = http_header(r, "Content-Length");
    const char *te = http_header(r, "Transfer-Encoding");
    bool chunked = te && strcasestr(te, "chunked");
    long long len = 0;
    if (cl) {
        char *end;
        errno = 0;
        len = strtoll(cl, &end, 10);
        if (errno || end == cl || *end || len < 0)
            return refuse(r, 400, "bad_content_length", "invalid Content-Length", 0);
    }
    if (len > limit || (chunked && limit == 0)) {
        char msg[160];
        if (limit == 0)
            snprintf(msg, sizeof(msg), "%s %s takes no request body.", r->method, r->url[0] ? "this route" : "");
        else
            snprintf(msg, sizeof(msg), "Request body too large: the limit is %lld bytes.", (long long)limit);
        /* the route's envelope, with its API's code (docs/ADMIN_API.md: too_large) */
        return refuse(r, 413, found && found->auth == HTTP_AUTH_ADMIN ? "too_large" : "request_too_large", msg, 0);
    }
    if (options) {
        r->refused = true; /* answered now; a body would be dropped */
        return http_preflight(r);
    }
    if (found->methods && !methods_has(found->methods, r->method)) {
        char msg[300];
        snprintf(msg, sizeof(msg), "Method %s is not allowed on %.200s; use %s.", r->method, r->url, found->methods);
        return refuse(r, 405, "method_not_allowed", msg, 0);
    }
    bool ok;
    enum MHD_Result ret = check_auth(r, &ok);
    if (!ok)
        return ret;
    const char *ct = http_header(r, "Content-Type");
    if (found->json && (len > 0 || chunked) && ct && !is_json_type(ct))
        return refuse(r, 415, "unsupported_media_type", "Content-Type must be application/json.", 0);
    gg_buf_init(&r->body, (size_t)limit);
    r->deadline_ms = gg_mono_ms() + cfg.request_timeout * 1000;
    if (len > 0 || chunked)
        extend_timeout(r);
    return MHD_YES;
}

/* ---- MHD callbacks ------------------------------------------------------------------ */

static void set_request_id(struct http_req *r, struct MHD_Connection *conn)
{
    const char *rid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "x-request-id");
    bool ok_rid = rid && strlen(rid) >= 8 && strlen(rid) < sizeof(r->request_id);
    for (const char *p = rid; ok_rid && *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
            ok_rid = false;
    if (ok_rid) {
        snprintf(r->request_id, sizeof(r->request_id), "%s", rid);
    } else {
        char hex[33];
        gg_random_hex(hex, 12);
        snprintf(r->request_id, sizeof(r->request_id), "req_%s", hex);
    }
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, r->client_ip, sizeof(r->client_ip));
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, r->client_ip, sizeof(r->client_ip));
    }
}

static enum MHD_Result access_pinned(struct http_req *r, const char *upload_data, size_t *upload_data_size)
{
    if (r->refused) {
        /* refused before the body: drop whatever still arrives */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (gg_mono_ms() > r->deadline_ms) {
            GG_INFO("%s %s %s: body not received within REQUEST_TIMEOUT", r->request_id, r->method, r->url);
            return MHD_NO; /* MHD cannot queue a reply mid-body: close */
        }
        if (gg_buf_add(&r->body, upload_data, n) != 0) {
            GG_INFO("%s %s %s: body over the route's limit", r->request_id, r->method, r->url);
            return MHD_NO;
        }
        extend_timeout(r);
        return MHD_YES;
    }
    if (!r->body_done) {
        r->body_done = true;
        MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)cfg.connection_timeout);
    }
    return r->route->handle(r);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
{
    (void)cls;
    (void)version;
    struct http_req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof(*r));
        if (!r)
            return MHD_NO;
        r->url = strdup(url);
        if (!r->url) {
            free(r);
            return MHD_NO;
        }
        r->conn = conn;
        r->method = method;
        r->t_start_us = gg_mono_us();
        r->snap = config_acquire();
        *con_cls = r;
        atomic_fetch_add(&requests_seen, 1);
        set_request_id(r, conn);
        const struct settings *prev = config_pin(r->snap);
        enum MHD_Result ret = admit(r);
        config_pin(prev);
        return ret;
    }
    const struct settings *prev = config_pin(r->snap);
    enum MHD_Result ret = access_pinned(r, upload_data, upload_data_size);
    config_pin(prev);
    return ret;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    struct http_req *r = *con_cls;
    if (!r)
        return;
    const struct settings *prev = config_pin(r->snap);
    if (r->route && r->route->completed)
        r->route->completed(r, toe);
    else
        GG_DEBUG("%s %s %s -> %d", r->request_id, r->method, r->url, r->status);
    if (r->state_free)
        r->state_free(r->state);
    config_pin(prev);
    config_release(r->snap);
    gg_buf_free(&r->body);
    free(r->url);
    free(r);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    GG_DEBUG("mhd: %s", line);
}

int http_start(const struct http_route *table, size_t n)
{
    routes = table;
    n_routes = n;
    http_static_init();
    struct sockaddr_in6 sa6;
    struct sockaddr_in sa4;
    struct sockaddr *sa = NULL;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    memset(&sa4, 0, sizeof(sa4));
    memset(&sa6, 0, sizeof(sa6));
    /* No API key: loopback only unless HOST says otherwise (finding 5). */
    const char *host = cfg.host && *cfg.host ? cfg.host : auth_api_required() ? "0.0.0.0" : "127.0.0.1";
    if (!(cfg.host && *cfg.host) && !auth_api_required())
        GG_WARN("no API_KEY set: listening on 127.0.0.1 only and accepting only Host headers that name "
                "this machine; set API_KEY (or HOST explicitly) to serve other machines");
    else if (!auth_api_required())
        GG_WARN("no API_KEY set and HOST=%s: the OpenAI API is open to anyone who can reach it", host);
    snprintf(bound_host, sizeof(bound_host), "%s", host);
    if (inet_pton(AF_INET, host, &sa4.sin_addr) == 1) {
        sa4.sin_family = AF_INET;
        sa4.sin_port = htons((uint16_t)cfg.port);
        sa = (struct sockaddr *)&sa4;
    } else if (inet_pton(AF_INET6, host, &sa6.sin6_addr) == 1) {
        sa6.sin6_family = AF_INET6;
        sa6.sin6_port = htons((uint16_t)cfg.port);
        sa = (struct sockaddr *)&sa6;
        flags |= MHD_USE_IPv6;
    } else {
        GG_ERROR("HOST: '%s' is not an IPv4 or IPv6 address", host);
        return -1;
    }
    long threads = cfg.threads;
    if (threads <= 0) {
        threads = config_cpus();    /* the CPUs this process may run on (taskset, cpusets) */
        if (threads < 1)
            threads = 1;
        if (threads > 8)
            threads = 8;
    }
    daemon_h = MHD_start_daemon(flags, (uint16_t)cfg.port, NULL, NULL, access_cb, NULL,
                                MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                                MHD_OPTION_SOCK_ADDR, sa,
                                MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
                                MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg.max_connections,
                                MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg.per_ip_connections,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg.connection_timeout,
                                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_POOL,
                                MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u,
                                MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL,
                                MHD_OPTION_END);
    if (!daemon_h) {
        GG_ERROR("cannot listen on %s:%lld: %s", host, (long long)cfg.port, strerror(errno));
        return -1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(daemon_h, MHD_DAEMON_INFO_BIND_PORT);
    bound_port = di ? di->port : (uint16_t)cfg.port;
    return 0;
}

/* The listen socket MHD hands back is shut down here (new connections are
 * refused at once) but closed only after MHD_stop_daemon(): a worker that
 * saw it readable just before the quiesce may still call accept() on it,
 * and closing it under that worker would race (and could hit a reused fd). */
static MHD_socket quiesced_fd = MHD_INVALID_SOCKET;

void http_quiesce(void)
{
    if (daemon_h && quiesced_fd == MHD_INVALID_SOCKET) {
        quiesced_fd = MHD_quiesce_daemon(daemon_h);
        if (quiesced_fd != MHD_INVALID_SOCKET)
            shutdown(quiesced_fd, SHUT_RDWR);
    }
}

void http_stop(void)
{
    if (daemon_h) {
        MHD_stop_daemon(daemon_h);
        daemon_h = NULL;
    }
    if (quiesced_fd != MHD_INVALID_SOCKET) {
        close(quiesced_fd);
        quiesced_fd = MHD_INVALID_SOCKET;
    }
}

uint16_t http_port(void)
{
    return bound_port;
}

const char *http_bound_host(void)
{
    return bound_host;
}

uint64_t http_requests_total(void)
{
    return (uint64_t)atomic_load(&requests_seen);
}

int http_connections(void)
{
    if (!daemon_h)
        return 0;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(daemon_h, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return di ? (int)di->num_connections : 0;
}
