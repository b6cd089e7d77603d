/* lg_req.c -- the load generator's utilities, options, upstream identity
 * (direct runs sign their own JWT) and request builders; see loadgen.h. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "jwt.h"
#include "loadgen.h"

/* ---------------------------------------------------------------- utils */

int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void die(const char *m)
{
    fprintf(stderr, "loadgen: %s\n", m);
    exit(2);
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p)
        die("out of memory");
    return p;
}


void sb_add(struct sbuf *b, const void *d, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
    b->p[b->len] = 0;
}
void sb_adds(struct sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }
void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= (int)sizeof tmp)
        die("format overflow");
    sb_add(b, tmp, (size_t)n);
}
void sb_json_str(struct sbuf *b, const char *s)
{
    sb_adds(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            sb_add(b, e, 2);
        } else if (c < 0x20) {
            sb_printf(b, "\\u%04x", c);
        } else {
            sb_add(b, s, 1);
        }
    }
    sb_adds(b, "\"");
}

/* ---------------------------------------------------------------- options */


struct lg_opt opt = {
    .target = T_GW, .conns = 1024, .stream = true, .gzip = false, .msg = "hi",
    .model = "gemini-2.5-flash", .marker = "\xe6\x98\xa5\xe7\x9c\xa0" /* 春眠 */,
    .timeout = 60, .drain = 30, .label = "", .prime_conns = 32,
};

/* ---------------------------------------------------------------- upstream identity (direct) */

char g_xsrf[256], g_keyid[64], g_jwt[JWT_MAX], g_session[512];
int64_t g_jwt_at;
const char *CSESIDX = "1000001", *SES = "demo-ses", *CONFIG_ID = "demo-config";

int tcp_connect(int port, bool nonblock)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Blocking one-shot exchange (Connection: close), for set-up only. */
int simple_http(const char *req, struct sbuf *resp)
{
    int fd = tcp_connect(opt.port, false);
    if (fd < 0)
        return -1;
    size_t n = strlen(req), off = 0;
    while (off < n) {
        ssize_t w = write(fd, req + off, n - off);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    char buf[8192];
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0)
        sb_add(resp, buf, (size_t)r);
    close(fd);
    return resp->len ? 0 : -1;
}

int json_field(const char *s, const char *name, char *out, size_t outlen)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", name);
    const char *p = strstr(s, pat);
    if (!p)
        return -1;
    p += strlen(pat);
    while (*p == ' ' || *p == ':' || *p == '\n' || *p == '\r' || *p == '\t')
        p++;
    if (*p != '"')
        return -1;
    p++;
    const char *e = strchr(p, '"');
    if (!e || (size_t)(e - p) >= outlen)
        return -1;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = 0;
    return 0;
}

void sign_jwt(void)
{
    int64_t t = now_us();
    if (g_jwt[0] && t - g_jwt_at < 60 * 1000000LL)
        return;
    if (jwt_sign(g_xsrf, g_keyid, CSESIDX, (int64_t)time(NULL), g_jwt, sizeof g_jwt) < 0)
        die("jwt_sign failed");
    g_jwt_at = t;
}

void api_headers(struct sbuf *b, const char *path, size_t body_len, bool gzip)
{
    sign_jwt();
    sb_printf(b, "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n", path, opt.port);
    sb_printf(b, "authorization: Bearer %s\r\n", g_jwt);
    sb_adds(b, "user-agent: Mozilla/5.0 (X11; Linux x86_64) gemgate-bench\r\n"
               "origin: https://business.gemini.google\r\nreferer: https://business.gemini.google/\r\n"
               "accept-language: en-US,en;q=0.9\r\naccept: */*\r\ncontent-type: application/json\r\n"
               "x-server-timeout: 1800\r\nsec-fetch-dest: empty\r\nsec-fetch-mode: cors\r\n"
               "sec-fetch-site: cross-site\r\n");
    if (gzip)
        sb_adds(b, "accept-encoding: gzip\r\n");
    sb_printf(b, "content-length: %zu\r\n\r\n", body_len);
}

void build_create_session(struct sbuf *out, bool keepalive_close)
{
    struct sbuf body = {0};
    sb_printf(&body, "{\"configId\":\"%s\",\"additionalParams\":{\"token\":\"-\"},"
                     "\"createSessionRequest\":{\"session\":{\"name\":\"\",\"displayName\":\"\"}}}", CONFIG_ID);
    api_headers(out, "/v1alpha/locations/global/widgetCreateSession", body.len, false);
    if (keepalive_close) { /* replace the final CRLF with a Connection: close header */
        out->len -= 2;
        sb_adds(out, "connection: close\r\n\r\n");
    }
    sb_add(out, body.p, body.len);
    free(body.p);
}

void build_stream_assist(struct sbuf *out, const char *session, const char *text)
{
    struct sbuf body = {0};
    sb_printf(&body, "{\"configId\":\"%s\",\"additionalParams\":{\"token\":\"-\"},\"streamAssistRequest\":{"
                     "\"session\":\"%s\",\"query\":{\"parts\":[{\"text\":", CONFIG_ID, session);
    sb_json_str(&body, text);
    sb_printf(&body, "}]},\"filter\":\"\",\"fileIds\":[],\"answerGenerationMode\":\"NORMAL\","
                     "\"toolsSpec\":{\"toolRegistry\":\"default_tool_registry\"},\"languageCode\":\"en-US\","
                     "\"userMetadata\":{\"timeZone\":\"Etc/UTC\"},\"assistSkippingMode\":\"REQUEST_ASSIST\","
                     "\"assistGenerationConfig\":{\"modelId\":\"%s\"}}}", opt.model);
    api_headers(out, "/v1alpha/locations/global/widgetStreamAssist", body.len, opt.gzip);
    sb_add(out, body.p, body.len);
    free(body.p);
}

void direct_setup(void)
{
    char req[512];
    snprintf(req, sizeof req, "GET /auth/getoxsrf?csesidx=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "cookie: __Secure-C_SES=%s\r\nconnection: close\r\n\r\n", CSESIDX, SES);
    struct sbuf r = {0};
    if (simple_http(req, &r) != 0 || json_field(r.p, "xsrfToken", g_xsrf, sizeof g_xsrf) != 0 ||
        json_field(r.p, "keyId", g_keyid, sizeof g_keyid) != 0)
        die("getoxsrf failed");
    free(r.p);
    if (opt.target == T_DIRECT_SA) {
        struct sbuf q = {0}, a = {0};
        build_create_session(&q, true);
        if (simple_http(q.p, &a) != 0 || json_field(a.p, "name", g_session, sizeof g_session) != 0)
            die("createSession failed");
        free(q.p);
        free(a.p);
    }
}

/* ---------------------------------------------------------------- requests */

void build_gw(struct sbuf *out, long idx, bool prime)
{
    struct sbuf body = {0};
    sb_printf(&body, "{\"model\":\"%s\",\"stream\":%s,\"messages\":[", opt.model,
              (opt.stream && !prime) ? "true" : "false");
    if (opt.target == T_GW_CONT) {
        char u1[160];
        snprintf(u1, sizeof u1, "conversation %ld of run %d [[fake:answer=pong,nothoughts]]", idx, (int)getpid());
        sb_adds(&body, "{\"role\":\"user\",\"content\":");
        sb_json_str(&body, u1);
        sb_adds(&body, "}");
        if (!prime) {
            sb_adds(&body, ",{\"role\":\"assistant\",\"content\":\"pong\"},{\"role\":\"user\",\"content\":");
            sb_json_str(&body, opt.msg);
            sb_adds(&body, "}");
        }
    } else {
        sb_adds(&body, "{\"role\":\"user\",\"content\":");
        sb_json_str(&body, opt.msg);
        sb_adds(&body, "}");
    }
    sb_adds(&body, "]}");
    sb_printf(out, "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   "Content-Type: application/json\r\nAccept: */*\r\n", opt.port);
    if (opt.key && *opt.key)
        sb_printf(out, "Authorization: Bearer %s\r\n", opt.key);
    sb_printf(out, "Content-Length: %zu\r\n\r\n", body.len);
    sb_add(out, body.p, body.len);
    free(body.p);
}

void push_lat(int64_t **a, size_t *n, size_t *cap, int64_t v)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4096;
        *a = xrealloc(*a, *cap * sizeof **a);
    }
    (*a)[(*n)++] = v;
}

void marker_scan(char *tail, size_t *tail_len, const char *m, const char *d, size_t n, bool *seen)
{
    size_t ml = strlen(m);
    if (*seen || ml == 0)
        return;
    if (*tail_len) {
        char tmp[64];
        size_t take = n < ml - 1 ? n : ml - 1;
        memcpy(tmp, tail, *tail_len);
        memcpy(tmp + *tail_len, d, take);
        if (memmem(tmp, *tail_len + take, m, ml)) {
            *seen = true;
            return;
        }
    }
    if (memmem(d, n, m, ml)) {
        *seen = true;
        return;
    }
    /* keep the last ml-1 bytes of (tail + d) */
    size_t keep = ml - 1;
    if (n >= keep) {
        memcpy(tail, d + n - keep, keep);
        *tail_len = keep;
    } else {
        size_t total = *tail_len + n;
        char tmp[64];
        memcpy(tmp, tail, *tail_len);
        memcpy(tmp + *tail_len, d, n);
        size_t k = total < keep ? total : keep;
        memcpy(tail, tmp + total - k, k);
        *tail_len = k;
    }
}

/* Command line into opt; usage() on anything wrong. */
void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
#define NEXT() (i + 1 < argc ? argv[++i] : (usage(), ""))
        if (!strcmp(a, "--target")) {
            const char *v = NEXT();
            opt.target = !strcmp(v, "gw") ? T_GW : !strcmp(v, "gw-cont") ? T_GW_CONT
                       : !strcmp(v, "direct") ? T_DIRECT : !strcmp(v, "direct-sa") ? T_DIRECT_SA : (usage(), T_GW);
        } else if (!strcmp(a, "--port")) opt.port = atoi(NEXT());
        else if (!strcmp(a, "--key")) opt.key = NEXT();
        else if (!strcmp(a, "--rate")) opt.rate = atof(NEXT());
        else if (!strcmp(a, "--closed")) opt.closed = true;
        else if (!strcmp(a, "--duration")) opt.duration = atof(NEXT());
        else if (!strcmp(a, "--count")) opt.count = atol(NEXT());
        else if (!strcmp(a, "--conns")) opt.conns = atoi(NEXT());
        else if (!strcmp(a, "--stream")) opt.stream = atoi(NEXT()) != 0;
        else if (!strcmp(a, "--gzip")) opt.gzip = atoi(NEXT()) != 0;
        else if (!strcmp(a, "--msg")) opt.msg = NEXT();
        else if (!strcmp(a, "--model")) opt.model = NEXT();
        else if (!strcmp(a, "--marker")) opt.marker = NEXT();
        else if (!strcmp(a, "--timeout")) opt.timeout = atof(NEXT());
        else if (!strcmp(a, "--drain")) opt.drain = atof(NEXT());
        else if (!strcmp(a, "--answer-bytes")) opt.answer_bytes = atof(NEXT());
        else if (!strcmp(a, "--raw")) opt.raw = NEXT();
        else if (!strcmp(a, "--label")) opt.label = NEXT();
        else if (!strcmp(a, "--dump")) opt.dump = NEXT();
        else if (!strcmp(a, "--pid")) {
            if (opt.npids == 4)
                usage();
            opt.pids[opt.npids] = atoi(NEXT());
            opt.pid_names[opt.npids++] = NEXT();
        } else
            usage();
    }
    if (opt.port <= 0 || opt.conns <= 0 || (!opt.closed && opt.rate <= 0))
        usage();
    if (!opt.closed && opt.count <= 0) {
        if (opt.duration <= 0)
            usage();
        opt.count = (long)(opt.rate * opt.duration + 0.5);
    }
    if (opt.closed && opt.duration <= 0 && opt.count <= 0)
        usage();
    if (strlen(opt.marker) >= 32 || strlen(opt.marker) == 0)
        die("--marker must be 1..31 bytes");
}
