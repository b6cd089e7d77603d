/* http.c -- see http.h */
#include "http.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "chat.h"
#include "media.h"
#include "config.h"
#include "gg_log.h"
#include "gg_time.h"
#include "gg_util.h"
#include "metrics.h"
#include "openai.h"

enum { R_NONE = 0, R_CHAT, R_IMAGES, R_MEDIA, R_MODELS, R_MODEL, R_HEALTH, R_READY, R_METRICS, R_ADMIN, R_STATIC, R_NOTFOUND,
       R_OPTIONS, R_ROOT };

static struct MHD_Daemon *_Atomic daemon_h;
static uint16_t bound_port;

/* ---- helpers ---------------------------------------------------------------- */

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

enum MHD_Result http_reply(struct http_req *r, int status, const char *ctype, const void *data, size_t n)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(n, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    if (ctype)
        MHD_add_response_header(resp, "Content-Type", ctype);
    http_add_common_headers(r, resp);
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    r->status = status;
    return ret;
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

enum MHD_Result http_reply_oai_error(struct http_req *r, const struct oai_error *e)
{
    struct gg_buf b;
    gg_buf_init(&b, 8192);
    oai_error_json(e, &b);
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
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)e->status, resp);
    MHD_destroy_response(resp);
    r->status = e->status;
    return ret;
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

/* ---- static web console --------------------------------------------------- */

static const char *mime_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot) return "application/octet-stream";
    static const struct { const char *ext, *type; } t[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"}, {".png", "image/png"}, {".ico", "image/x-icon"},
        {".json", "application/json"}, {".woff2", "font/woff2"}, {".woff", "font/woff"},
        {".txt", "text/plain; charset=utf-8"}, {".map", "application/json"}, {".webp", "image/webp"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcasecmp(dot, t[i].ext) == 0)
            return t[i].type;
    return "application/octet-stream";
}

static char web_root[PATH_MAX];

#ifndef GEMGATE_BUILD_WEB_DIR
#define GEMGATE_BUILD_WEB_DIR ""
#endif
#ifndef GEMGATE_SOURCE_WEB_DIR
#define GEMGATE_SOURCE_WEB_DIR ""
#endif

/* WEB_DIR, the install layout, the build tree next to the binary, the source
 * tree's web/dist, then the compile-time build/source paths, then ./web/dist. */
static void find_web_root(void)
{
    const char *cands[7] = {cfg.web_dir, NULL, NULL, NULL, GEMGATE_BUILD_WEB_DIR, GEMGATE_SOURCE_WEB_DIR, "web/dist"};
    char exe[PATH_MAX], c1[PATH_MAX + 64], c2[PATH_MAX + 64], c3[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        snprintf(c1, sizeof(c1), "%s/../share/gemgate/web", exe);       /* installed layout */
        snprintf(c2, sizeof(c2), "%s/../web/dist", exe);                /* build tree (cmake web target) */
        snprintf(c3, sizeof(c3), "%s/../../web/dist", exe);             /* in-tree build, `make web` */
        cands[1] = c1;
        cands[2] = c2;
        cands[3] = c3;
    }
    for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
        if (!cands[i] || !*cands[i])
            continue;
        char idx[PATH_MAX + 16];
        snprintf(idx, sizeof(idx), "%s/index.html", cands[i]);
        if (access(idx, R_OK) == 0) {
            if (!realpath(cands[i], web_root))
                snprintf(web_root, sizeof(web_root), "%s", cands[i]);
            GG_INFO("web console served from %s", web_root);
            return;
        }
    }
    web_root[0] = '\0';
    GG_WARN("web console not found, /admin will answer 404: install node >= 20 and npm and rebuild "
            "(cmake --build builds it into <build>/web/dist), or run `make web` in the source tree, "
            "or set WEB_DIR to a built console");
}

static enum MHD_Result serve_static(struct http_req *r)
{
    const char *rel = r->url + 6; /* after "/admin" */
    while (*rel == '/')
        rel++;
    if (!web_root[0])
        return http_reply(r, 404, "text/plain", "web console not built\n", 22);
    if (strstr(rel, "..") || strchr(rel, '\\'))
        return http_reply(r, 400, "text/plain", "bad path\n", 9);
    char path[PATH_MAX + 512];
    snprintf(path, sizeof(path), "%s/%s", web_root, *rel ? rel : "index.html");
    struct stat st;
    bool is_index = false;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        /* SPA fallback */
        snprintf(path, sizeof(path), "%s/index.html", web_root);
        is_index = true;
        if (stat(path, &st) != 0)
            return http_reply(r, 404, "text/plain", "not found\n", 10);
    } else if (!*rel || strcmp(rel, "index.html") == 0) {
        is_index = true;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return http_reply(r, 404, "text/plain", "not found\n", 10);
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", mime_of(path));
    MHD_add_response_header(resp, "Cache-Control",
                            is_index ? "no-cache" : strncmp(rel, "assets/", 7) == 0
                                ? "public, max-age=31536000, immutable" : "public, max-age=3600");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    http_add_common_headers(r, resp);
    enum MHD_Result ret = MHD_queue_response(r->conn, 200, resp);
    MHD_destroy_response(resp);
    r->status = 200;
    return ret;
}

/* ---- dispatch -------------------------------------------------------------- */

static int route_of(const char *method, const char *url)
{
    if (strcmp(method, "OPTIONS") == 0)
        return R_OPTIONS;
    if (strcmp(url, "/v1/chat/completions") == 0 || strcmp(url, "/chat/completions") == 0 ||
        strcmp(url, "/hf/v1/chat/completions") == 0)
        return R_CHAT;
    if (strcmp(url, "/v1/images/generations") == 0 || strcmp(url, "/images/generations") == 0)
        return R_IMAGES;
    if (strncmp(url, "/images/", 8) == 0)
        return R_MEDIA;
    if (strcmp(url, "/v1/models") == 0 || strcmp(url, "/models") == 0)
        return R_MODELS;
    if (strncmp(url, "/v1/models/", 11) == 0)
        return R_MODEL;
    if (strcmp(url, "/healthz") == 0 || strcmp(url, "/health") == 0)
        return R_HEALTH;
    if (strcmp(url, "/readyz") == 0)
        return R_READY;
    if (strcmp(url, "/metrics") == 0)
        return R_METRICS;
    if (strncmp(url, "/api/admin/", 11) == 0 || strcmp(url, "/api/admin") == 0)
        return R_ADMIN;
    if (strcmp(url, "/admin") == 0 || strncmp(url, "/admin/", 7) == 0)
        return R_STATIC;
    if (strcmp(url, "/") == 0)
        return R_ROOT;
    return R_NOTFOUND;
}

static enum MHD_Result handle(struct http_req *r)
{
    switch (r->route) {
    case R_CHAT:
        return chat_handle(r);
    case R_IMAGES:
        return chat_images(r);
    case R_MEDIA:
        return media_serve(r);
    case R_MODELS:
    case R_MODEL:
        return chat_models(r);
    case R_ADMIN:
        return admin_handle(r);
    case R_STATIC:
        if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
            return http_reply(r, 405, "text/plain", "method not allowed\n", 19);
        if (strcmp(r->url, "/admin") == 0) {
            struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
            MHD_add_response_header(resp, "Location", "/admin/");
            http_add_common_headers(r, resp);
            enum MHD_Result ret = MHD_queue_response(r->conn, 301, resp);
            MHD_destroy_response(resp);
            r->status = 301;
            return ret;
        }
        return serve_static(r);
    case R_HEALTH:
        return http_reply_json(r, 200, "{\"status\":\"ok\"}", 15);
    case R_READY:
        return admin_readyz(r);
    case R_METRICS:
        return metrics_handle(r);
    case R_ROOT: {
        const char *msg = "{\"name\":\"gemgate\",\"openai_base\":\"/v1\",\"admin\":\"/admin/\"}";
        return http_reply_json(r, 200, msg, strlen(msg));
    }
    case R_OPTIONS: {
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        const char *origin = http_header(r, "Origin");
        if (origin_allowed(origin)) {
            MHD_add_response_header(resp, "Access-Control-Allow-Origin",
                                    strcmp(cfg.cors_origins, "*") == 0 ? "*" : origin);
            MHD_add_response_header(resp, "Vary", "Origin");
            MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
            MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                    "authorization, content-type, x-api-key, openai-organization, openai-project, x-stainless-os, x-stainless-lang, x-stainless-package-version, x-stainless-runtime, x-stainless-runtime-version, x-stainless-arch, x-stainless-retry-count, x-stainless-timeout");
            MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
        }
        MHD_add_response_header(resp, "x-request-id", r->request_id);
        enum MHD_Result ret = MHD_queue_response(r->conn, 204, resp);
        MHD_destroy_response(resp);
        r->status = 204;
        return ret;
    }
    default: {
        struct oai_error e;
        oai_set_error(&e, 404, "invalid_request_error", NULL, "not_found", "Unknown route: %s %.200s",
                      r->method, r->url);
        return http_reply_oai_error(r, &e);
    }
    }
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
        r->conn = conn;
        r->method = method;
        r->url = strdup(url);
        r->t_start_us = gg_mono_us();
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
        gg_buf_init(&r->body, (size_t)cfg.max_body);
        r->route = route_of(method, url);
        *con_cls = r;
        metrics_http_request();
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!r->too_large && gg_buf_add(&r->body, upload_data, *upload_data_size) != 0) {
            r->too_large = true;
            gg_buf_free(&r->body);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->too_large && r->status == 0) {
        struct oai_error e;
        oai_set_error(&e, 413, "invalid_request_error", NULL, "request_too_large",
                      "Request body too large: the limit is %lld bytes.", (long long)cfg.max_body);
        return http_reply_oai_error(r, &e);
    }
    r->body_done = true;
    return handle(r);
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    struct http_req *r = *con_cls;
    if (!r)
        return;
    if (r->route == R_CHAT || r->route == R_IMAGES)
        chat_completed(r, toe);
    else if (r->route == R_ADMIN)
        admin_completed(r, toe);
    else
        GG_DEBUG("%s %s %s -> %d", r->request_id, r->method, r->url, r->status);
    if (r->state_free)
        r->state_free(r->state);
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

int http_start(void)
{
    find_web_root();
    struct sockaddr_in6 sa6;
    struct sockaddr_in sa4;
    struct sockaddr *sa = NULL;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    memset(&sa4, 0, sizeof(sa4));
    memset(&sa6, 0, sizeof(sa6));
    if (inet_pton(AF_INET, cfg.host, &sa4.sin_addr) == 1) {
        sa4.sin_family = AF_INET;
        sa4.sin_port = htons((uint16_t)cfg.port);
        sa = (struct sockaddr *)&sa4;
    } else if (inet_pton(AF_INET6, cfg.host, &sa6.sin6_addr) == 1) {
        sa6.sin6_family = AF_INET6;
        sa6.sin6_port = htons((uint16_t)cfg.port);
        sa = (struct sockaddr *)&sa6;
        flags |= MHD_USE_IPv6;
    } else {
        GG_ERROR("HOST: '%s' is not an IPv4 or IPv6 address", cfg.host);
        return -1;
    }
    long threads = cfg.threads;
    if (threads <= 0) {
        threads = sysconf(_SC_NPROCESSORS_ONLN);
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
                                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
                                MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u,
                                MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL,
                                MHD_OPTION_END);
    if (!daemon_h) {
        GG_ERROR("cannot listen on %s:%lld: %s", cfg.host, (long long)cfg.port, strerror(errno));
        return -1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(daemon_h, MHD_DAEMON_INFO_BIND_PORT);
    bound_port = di ? di->port : (uint16_t)cfg.port;
    return 0;
}

void http_quiesce(void)
{
    if (daemon_h) {
        MHD_socket s = MHD_quiesce_daemon(daemon_h);
        if (s != MHD_INVALID_SOCKET)
            close(s);
    }
}

void http_stop(void)
{
    if (daemon_h) {
        MHD_stop_daemon(daemon_h);
        daemon_h = NULL;
    }
}

uint16_t http_port(void)
{
    return bound_port;
}

int http_connections(void)
{
    if (!daemon_h)
        return 0;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(daemon_h, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return di ? (int)di->num_connections : 0;
}
