/* test_http.c -- unit tests of the HTTP leaf's rules: the route table and
 * its lookup, the Host check used without an API key, media type
 * allow-list, single-use tickets, and the settings snapshots (reload
 * builds a new snapshot; a held or pinned snapshot never changes;
 * non-reloadable keys keep their value; a bad reload changes nothing). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "chat.h"
#include "config.h"
#include "http.h"
#include "media.h"
#include "media_serve.h"
#include "metrics.h"
#include "routes.h"
#include "tinytest.h"

static void test_route_table(void)
{
    size_t n;
    const struct http_route *t = routes_table(&n);
    TT_CHECK(n > 10);
    for (size_t i = 0; i < n; i++) {
        TT_CHECK(t[i].handle != NULL);
        TT_CHECK(t[i].error_body != NULL);
        TT_CHECK(t[i].path && t[i].path[0] == '/');
        if (t[i].methods && strcmp(t[i].methods, "GET HEAD") == 0)
            TT_EQ_INT(t[i].max_body, 0);    /* read-only routes take no body */
    }
    const struct http_route *r = http_route_find(t, n, "/v1/chat/completions");
    TT_CHECK(r && r->handle == chat_handle && r->auth == HTTP_AUTH_API && r->json && r->max_body == HTTP_BODY_MAX);
    TT_CHECK(r && r->completed == chat_completed && r->error_body == routes_oai_error);
    r = http_route_find(t, n, "/v1/models");
    TT_CHECK(r && r->handle == chat_models && r->max_body == 0 && r->auth == HTTP_AUTH_API);
    r = http_route_find(t, n, "/v1/models/gemini-2.5-flash");
    TT_CHECK(r && r->handle == chat_models);
    TT_CHECK(http_route_find(t, n, "/v1/modelsx") == NULL);
    r = http_route_find(t, n, "/images/0123456789abcdef0123456789abcdef.png");
    TT_CHECK(r && r->handle == media_serve && r->auth == HTTP_AUTH_NONE && r->max_body == 0);
    r = http_route_find(t, n, "/api/admin/accounts/import");
    TT_CHECK(r && r->handle == admin_handle && !r->json && r->max_body == HTTP_BODY_MAX);
    r = http_route_find(t, n, "/api/admin/accounts/7");
    TT_CHECK(r && r->handle == admin_handle && r->json && r->auth == HTTP_AUTH_ADMIN && r->max_body == (1 << 20));
    TT_CHECK(r && r->error_body == routes_admin_error && !r->ticket_ok);
    r = http_route_find(t, n, "/api/admin/logs/stream");
    TT_CHECK(r && r->ticket_ok && r->max_body == 0 && r->auth == HTTP_AUTH_ADMIN);
    r = http_route_find(t, n, "/api/admin/logs/ticket");
    TT_CHECK(r && r->handle == http_ticket_handle && r->auth == HTTP_AUTH_ADMIN);
    r = http_route_find(t, n, "/api/admin");
    TT_CHECK(r && r->handle == admin_handle);
    TT_CHECK(http_route_find(t, n, "/api/adminx") == NULL);
    r = http_route_find(t, n, "/metrics");
    TT_CHECK(r && r->handle == metrics_handle && r->auth == HTTP_AUTH_METRICS);
    r = http_route_find(t, n, "/readyz");
    TT_CHECK(r && r->handle == admin_readyz && r->auth == HTTP_AUTH_METRICS);
    r = http_route_find(t, n, "/healthz");
    TT_CHECK(r && r->auth == HTTP_AUTH_NONE);
    r = http_route_find(t, n, "/admin/assets/app.js");
    TT_CHECK(r && r->auth == HTTP_AUTH_NONE && r->max_body == 0);
    TT_CHECK(http_route_find(t, n, "/nope") == NULL);
}

static void test_envelopes(void)
{
    struct gg_buf b;
    gg_buf_init(&b, 4096);
    routes_oai_error(413, "request_too_large", "too \"big\"", &b);
    TT_CHECK(b.p && strstr(b.p, "\"code\":\"request_too_large\"") && strstr(b.p, "\"type\":\"invalid_request_error\""));
    TT_CHECK(b.p && strstr(b.p, "too \\\"big\\\""));
    gg_buf_free(&b);
    gg_buf_init(&b, 4096);
    routes_admin_error(401, "unauthorized", "no", &b);
    TT_EQ_STR(b.p, "{\"error\":{\"code\":\"unauthorized\",\"message\":\"no\"}}");
    gg_buf_free(&b);
}

static void test_host_check(void)
{
    TT_CHECK(http_host_names_us(NULL));
    TT_CHECK(http_host_names_us("localhost"));
    TT_CHECK(http_host_names_us("LOCALHOST:7860"));
    TT_CHECK(http_host_names_us("127.0.0.1:7860"));
    TT_CHECK(http_host_names_us("[::1]:7860"));
    TT_CHECK(!http_host_names_us("evil.example"));
    TT_CHECK(!http_host_names_us("localhost.evil.example:7860"));
    TT_CHECK(!http_host_names_us("127.0.0.1.nip.io"));
    TT_CHECK(!http_host_names_us("[::1"));
    char me[256];
    if (gethostname(me, sizeof(me)) == 0)
        TT_CHECK(http_host_names_us(me));
    TT_CHECK(!http_host_names_us("gw.example.com"));
    setenv("PUBLIC_URL", "https://gw.example.com:8443/base", 1);
    TT_CHECK(config_reload(NULL, 0) >= 1);
    TT_CHECK(http_host_names_us("gw.example.com"));
    TT_CHECK(http_host_names_us("gw.example.com:8443"));
    TT_CHECK(!http_host_names_us("gw.example.co"));
    unsetenv("PUBLIC_URL");
    TT_CHECK(config_reload(NULL, 0) >= 1);
}

static void test_media_types(void)
{
    TT_CHECK(http_media_type_ok("image/png"));
    TT_CHECK(http_media_type_ok("image/JPEG"));
    TT_CHECK(http_media_type_ok("image/webp"));
    TT_CHECK(!http_media_type_ok("image/svg+xml"));
    TT_CHECK(!http_media_type_ok("text/html"));
    TT_CHECK(!http_media_type_ok(NULL));
}

static void test_tickets(void)
{
    char t[65], u[65];
    TT_EQ_INT(http_ticket_issue(t), 0);
    TT_EQ_INT(strlen(t), 64);
    TT_EQ_INT(http_ticket_issue(u), 0);
    TT_CHECK(strcmp(t, u) != 0);
    TT_CHECK(!http_ticket_take(NULL));
    TT_CHECK(!http_ticket_take("abc"));
    char wrong[65];
    memcpy(wrong, t, 65);
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
    TT_CHECK(!http_ticket_take(wrong));
    TT_CHECK(http_ticket_take(t));
    TT_CHECK(!http_ticket_take(t));           /* single use */
    TT_CHECK(http_ticket_take(u));
    int issued = 0;
    for (int i = 0; i < 100; i++)
        if (http_ticket_issue(t) == 0)
            issued++;
    TT_EQ_INT(issued, 64);                     /* bounded table */
}

static void test_snapshots(void)
{
    TT_EQ_INT(cfg.per_ip_connections, 64);
    TT_EQ_INT(cfg.request_timeout, 30);
    TT_CHECK(cfg.host == NULL);
    TT_CHECK(cfg.metrics_key == NULL);
    const struct settings *old = config_acquire();
    int64_t port = cfg.port;
    setenv("CORS_ORIGINS", "https://x.example", 1);
    setenv("PORT", "1234", 1);                 /* not reloadable */
    setenv("METRICS_KEY", "mk", 1);
    char err[256] = "";
    TT_EQ_INT(config_reload(err, sizeof(err)), 2);
    TT_EQ_STR(cfg.cors_origins, "https://x.example");
    TT_EQ_STR(cfg.metrics_key, "mk");
    TT_EQ_INT(cfg.port, port);
    TT_CHECK(old->cors_origins == NULL);      /* a held snapshot never changes */
    TT_CHECK(old != &cfg);
    const struct settings *prev = config_pin(old);
    TT_CHECK(cfg.cors_origins == NULL);       /* this thread reads its pinned snapshot */
    config_pin(prev);
    TT_EQ_STR(cfg.cors_origins, "https://x.example");
    setenv("MAX_RETRIES", "lots", 1);         /* a bad value: nothing changes */
    setenv("CORS_ORIGINS", "https://y.example", 1);
    TT_EQ_INT(config_reload(err, sizeof(err)), -1);
    TT_CHECK(strstr(err, "MAX_RETRIES") != NULL);
    TT_EQ_STR(cfg.cors_origins, "https://x.example");
    unsetenv("MAX_RETRIES");
    unsetenv("PORT");
    config_release(old);
    config_reap();                             /* within the grace period: kept, no crash */
    TT_EQ_STR(cfg.cors_origins, "https://x.example");
    unsetenv("CORS_ORIGINS");
    unsetenv("METRICS_KEY");
    TT_EQ_INT(config_reload(err, sizeof(err)), 2);
    TT_CHECK(cfg.cors_origins == NULL);
}

int main(void)
{
    static const char *const clear[] = {"HOST", "PORT", "CORS_ORIGINS", "PUBLIC_URL", "METRICS_KEY", "API_KEY",
                                        "PER_IP_CONNECTIONS", "REQUEST_TIMEOUT", "MAX_RETRIES", NULL};
    for (int i = 0; clear[i]; i++)
        unsetenv(clear[i]);
    if (chdir("/") != 0)                       /* no stray .env */
        return 2;
    char err[256];
    if (config_load(err, sizeof(err)) != 0) {
        fprintf(stderr, "config_load: %s\n", err);
        return 2;
    }
    TT_RUN(test_snapshots);
    TT_RUN(test_route_table);
    TT_RUN(test_envelopes);
    TT_RUN(test_host_check);
    TT_RUN(test_media_types);
    TT_RUN(test_tickets);
    config_free();
    return TT_REPORT();
}
