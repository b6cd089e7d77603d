/* endpoints.c -- see endpoints.h */
#include "endpoints.h"

#include <stdio.h>
#include <string.h>

#include "anthropic.h"
#include "exch_http.h"
#include "gemini.h"
#include "gg_buf.h"
#include "http.h"
#include "responses.h"
#include "tokens.h"

static struct exch_parse_in body_of(struct http_req *r)
{
    struct exch_parse_in in = {.body = r->body.p ? r->body.p : "", .len = r->body.len};
    return in;
}

enum MHD_Result ep_messages(struct http_req *r)
{
    struct exch_parse_in in = body_of(r);
    return exch_http_handle(r, &dialect_anthropic, &in);
}

enum MHD_Result ep_count_tokens(struct http_req *r)
{
    struct exch_error e;
    if (strcmp(r->method, "POST") != 0) {
        exch_set_error(&e, 405, EXCH_ERR_INVALID, NULL, NULL, "Method %s is not allowed; use POST.", r->method);
        return exch_http_reply_error(r, &dialect_anthropic, &e);
    }
    char key_id[24];
    if (!exch_http_auth(r, &dialect_anthropic, key_id))
        return MHD_YES;
    struct exch_parse_in in = body_of(r);
    in.key_id = key_id;
    int64_t n = 0;
    if (anth_count_tokens(&in, &n, &e) != 0)
        return exch_http_reply_error(r, &dialect_anthropic, &e);
    char body[64];
    int len = snprintf(body, sizeof(body), "{\"input_tokens\":%lld}", (long long)n);
    return http_reply_json(r, 200, body, (size_t)len);
}

enum MHD_Result ep_responses(struct http_req *r)
{
    struct exch_parse_in in = body_of(r);
    return exch_http_handle(r, &dialect_responses, &in);
}

enum MHD_Result ep_response_item(struct http_req *r)
{
    const char *id = r->url + strlen("/v1/responses/");
    return exch_http_result(r, &dialect_responses, id);
}

enum MHD_Result ep_gemini(struct http_req *r)
{
    char model[128];
    enum gem_method m = gem_route(r->url, model, sizeof(model));
    struct exch_error e;
    if (m == GEM_GENERATE || m == GEM_STREAM) {
        struct exch_parse_in in = body_of(r);
        in.path_model = model;
        in.path_stream = m == GEM_STREAM;
        return exch_http_handle(r, gem_dialect_for(m, http_query(r, "alt")), &in);
    }
    if (m == GEM_NONE) {
        exch_set_error(&e, 404, EXCH_ERR_NOT_FOUND, NULL, NULL, "Unknown route %.100s", r->url);
        return exch_http_reply_error(r, &dialect_gemini, &e);
    }
    bool want_post = m == GEM_COUNT;
    if (strcmp(r->method, want_post ? "POST" : "GET") != 0) {
        exch_set_error(&e, 405, EXCH_ERR_INVALID, NULL, NULL, "Method %s is not allowed on %.100s.", r->method,
                       r->url);
        return exch_http_reply_error(r, &dialect_gemini, &e);
    }
    char key_id[24];
    if (!exch_http_auth(r, &dialect_gemini, key_id))
        return MHD_YES;
    struct gg_buf out;
    gg_buf_init(&out, 4u << 20);
    int rc;
    if (m == GEM_COUNT) {
        struct exch_parse_in in = body_of(r);
        in.path_model = model;
        in.key_id = key_id;
        rc = gem_count_tokens(&in, exch_estimate_tokens, &out, &e);
    } else {
        rc = gem_models_body(m == GEM_GET ? model : NULL, &out, &e);
    }
    enum MHD_Result ret = rc == 0 ? http_reply_json(r, 200, out.p ? out.p : "{}", out.len)
                                  : exch_http_reply_error(r, &dialect_gemini, &e);
    gg_buf_free(&out);
    return ret;
}

void ep_completed(struct http_req *r, enum MHD_RequestTerminationCode toe)
{
    exch_http_completed(r, toe);
}
