/* routes.c -- see routes.h */
#include "routes.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "anthropic.h"
#include "chat.h"
#include "endpoints.h"
#include "gemini.h"
#include "media_serve.h"
#include "metrics.h"
#include "openai.h"
#include "http_static.h"

#define ADMIN_BODY (1 << 20)        /* account JSON: cookies are at most 8 KiB each */

void routes_oai_error(int status, const char *code, const char *msg, struct gg_buf *out)
{
    struct oai_error e;
    const char *type = status == 429 ? "rate_limit_error" : status >= 500 ? "api_error" : "invalid_request_error";
    oai_set_error(&e, status, type, NULL, code, "%s", msg);
    oai_error_json(&e, out);
}

void routes_admin_error(int status, const char *code, const char *msg, struct gg_buf *out)
{
    (void)status;
    cJSON *root = cJSON_CreateObject();
    cJSON *e = root ? cJSON_AddObjectToObject(root, "error") : NULL;
    if (e) {
        cJSON_AddStringToObject(e, "code", code);
        cJSON_AddStringToObject(e, "message", msg);
    }
    char *s = e ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (s) {
        gg_buf_adds(out, s);
        free(s);
    }
}

/* Early refusals on Gemini routes in Google's envelope. */
static void gemini_error(int status, const char *code, const char *msg, struct gg_buf *out)
{
    struct exch_error e;
    exch_set_error(&e, status, exch_kind_of_status(status), NULL, code, "%s", msg);
    dialect_gemini.error_body(&e, out);
}

/* Gemini clients send the key as x-goog-api-key or ?key= (or Bearer). */
static const char *gemini_key(struct http_req *r)
{
    return gem_api_key(http_header(r, "x-goog-api-key"), http_query(r, "key"), http_header(r, "Authorization"));
}

static enum MHD_Result health(struct http_req *r)
{
    return http_reply_json(r, 200, "{\"status\":\"ok\"}", 15);
}

static enum MHD_Result root(struct http_req *r)
{
    const char *msg = "{\"name\":\"gemgate\",\"openai_base\":\"/v1\",\"admin\":\"/admin/\"}";
    return http_reply_json(r, 200, msg, strlen(msg));
}

#define OAI routes_oai_error
#define ANT anth_route_error
#define GEM gemini_error
#define ADM routes_admin_error
#define BODY HTTP_BODY_MAX

/* First match wins: specific admin paths before the /api/admin prefix. */
static const struct http_route table[] = {
    /* methods, path, prefix, auth, max_body, json, ticket_ok, handler, completed, envelope, api_key */
    {"POST", "/v1/chat/completions",          false, HTTP_AUTH_API,     BODY,       true,  false, chat_handle,  chat_completed, OAI, NULL},
    {"POST", "/chat/completions",             false, HTTP_AUTH_API,     BODY,       true,  false, chat_handle,  chat_completed, OAI, NULL},
    {"POST", "/hf/v1/chat/completions",       false, HTTP_AUTH_API,     BODY,       true,  false, chat_handle,  chat_completed, OAI, NULL},
    {"POST", "/v1/images/generations",        false, HTTP_AUTH_API,     BODY,       true,  false, chat_images,  chat_completed, OAI, NULL},
    {"POST", "/images/generations",           false, HTTP_AUTH_API,     BODY,       true,  false, chat_images,  chat_completed, OAI, NULL},
    {"POST", "/v1/messages",                  false, HTTP_AUTH_API,     BODY,       true,  false, ep_messages,  ep_completed,   ANT, NULL},
    {"POST", "/v1/messages/count_tokens",     false, HTTP_AUTH_API,     BODY,       true,  false, ep_count_tokens, NULL,        ANT, NULL},
    {"POST", "/v1/responses",                 false, HTTP_AUTH_API,     BODY,       true,  false, ep_responses, ep_completed,   OAI, NULL},
    {"GET HEAD DELETE", "/v1/responses/",     true,  HTTP_AUTH_API,     0,          false, false, ep_response_item, NULL,       OAI, NULL},
    {"GET HEAD POST", "/v1beta/models",       true,  HTTP_AUTH_API,     BODY,       true,  false, ep_gemini,    ep_completed,   GEM, gemini_key},
    {"GET HEAD", "/images/",                  true,  HTTP_AUTH_NONE,    0,          false, false, media_serve,  NULL,           OAI, NULL},
    {"GET HEAD", "/v1/models",                false, HTTP_AUTH_API,     0,          false, false, chat_models,  NULL,           OAI, NULL},
    {"GET HEAD", "/models",                   false, HTTP_AUTH_API,     0,          false, false, chat_models,  NULL,           OAI, NULL},
    {"GET HEAD", "/v1/models/",               true,  HTTP_AUTH_API,     0,          false, false, chat_models,  NULL,           OAI, NULL},
    {"GET HEAD", "/healthz",                  false, HTTP_AUTH_NONE,    0,          false, false, health,       NULL,           OAI, NULL},
    {"GET HEAD", "/health",                   false, HTTP_AUTH_NONE,    0,          false, false, health,       NULL,           OAI, NULL},
    {"GET HEAD", "/readyz",                   false, HTTP_AUTH_METRICS, 0,          false, false, admin_readyz, NULL,           ADM, NULL},
    {"GET HEAD", "/metrics",                  false, HTTP_AUTH_METRICS, 0,          false, false, metrics_handle, NULL,         ADM, NULL},
    {"POST", "/api/admin/logs/ticket",        false, HTTP_AUTH_ADMIN,   0,          false, false, http_ticket_handle, NULL,     ADM, NULL},
    {"GET", "/api/admin/logs/stream",         false, HTTP_AUTH_ADMIN,   0,          false, true,  admin_handle, admin_completed, ADM, NULL},
    {"POST", "/api/admin/accounts/import",    false, HTTP_AUTH_ADMIN,   BODY,       false, false, admin_handle, admin_completed, ADM, NULL},
    {NULL, "/api/admin",                      true,  HTTP_AUTH_ADMIN,   ADMIN_BODY, true,  false, admin_handle, admin_completed, ADM, NULL},
    {"GET HEAD", "/admin",                    true,  HTTP_AUTH_NONE,    0,          false, false, http_static_serve, NULL,      ADM, NULL},
    {"GET HEAD", "/",                         false, HTTP_AUTH_NONE,    0,          false, false, root,         NULL,           OAI, NULL},
};

const struct http_route *routes_table(size_t *n)
{
    *n = sizeof(table) / sizeof(table[0]);
    return table;
}
