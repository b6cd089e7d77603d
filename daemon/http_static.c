/* http_static.c -- the built web console under /admin/ (part of the http
 * module; see http.h and http_static.h). */
#include "http_static.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "gg_log.h"

/* The console is served from our own origin only: scripts and styles from
 * 'self' (Vue's style bindings need inline styles), no framing, no plugins. */
#define CONSOLE_CSP "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " \
                    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; " \
                    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

static char web_root[PATH_MAX];

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

#ifndef GEMGATE_BUILD_WEB_DIR
#define GEMGATE_BUILD_WEB_DIR ""
#endif
#ifndef GEMGATE_SOURCE_WEB_DIR
#define GEMGATE_SOURCE_WEB_DIR ""
#endif

/* WEB_DIR, the install layout, the build tree next to the binary, the source
 * tree's web/dist, then the compile-time build/source paths, then ./web/dist. */
void http_static_init(void)
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

void http_static_headers(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "Content-Security-Policy", CONSOLE_CSP);
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
}

static enum MHD_Result text(struct http_req *r, int status, const char *msg)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(msg), (void *)msg, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
    http_static_headers(resp);
    return http_queue(r, status, resp);
}

enum MHD_Result http_static_serve(struct http_req *r)
{
    if (strcmp(r->url, "/admin") == 0) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        MHD_add_response_header(resp, "Location", "/admin/");
        http_static_headers(resp);
        return http_queue(r, 301, resp);
    }
    const char *rel = r->url + 6; /* after "/admin" */
    while (*rel == '/')
        rel++;
    if (!web_root[0])
        return text(r, 404, "web console not built\n");
    if (strstr(rel, "..") || strchr(rel, '\\'))
        return text(r, 400, "bad path\n");
    char path[PATH_MAX + 512];
    snprintf(path, sizeof(path), "%s/%s", web_root, *rel ? rel : "index.html");
    struct stat st;
    bool is_index = false;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        /* SPA fallback */
        snprintf(path, sizeof(path), "%s/index.html", web_root);
        is_index = true;
        if (stat(path, &st) != 0)
            return text(r, 404, "not found\n");
    } else if (!*rel || strcmp(rel, "index.html") == 0) {
        is_index = true;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return text(r, 404, "not found\n");
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", mime_of(path));
    MHD_add_response_header(resp, "Cache-Control",
                            is_index ? "no-cache" : strncmp(rel, "assets/", 7) == 0
                                ? "public, max-age=31536000, immutable" : "public, max-age=3600");
    http_static_headers(resp);
    return http_queue(r, 200, resp);
}
