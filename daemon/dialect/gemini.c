/* gemini.c -- the Gemini dialect tables: GenerateContentResponse bodies and
 * chunks in both stream framings, the error envelope, countTokens and the
 * models list (see gemini.h; parsing is in gemini_in.c). */
#include "gemini.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gemini_int.h"
#include "gg_util.h"
#include "models.h"

struct gm_state {
    bool begun, done;
    int n_chunks;           /* chunks written (the array form puts ",\r\n" between them) */
    struct gem_json_filter json;    /* JSON mode: fences off the streamed answer */
};

static bool json_mode(const struct exch_ctx *x)
{
    const struct gem_opts *o = x->req ? x->req->opts : NULL;
    return o && o->json;
}

static struct gm_state *st(struct exch_ctx *x)
{
    return x->state;
}

static void put_cstr(struct gg_buf *out, const char *s)
{
    if (s)
        gg_buf_add_json_str(out, s, strlen(s));
    else
        gg_buf_adds(out, "null");
}

/* args_json is a JSON object as text (the core's contract); anything else
 * becomes {} rather than breaking the client's parser. */
static void put_args(struct gg_buf *out, const char *args)
{
    cJSON *j = args ? cJSON_Parse(args) : NULL;
    gg_buf_adds(out, cJSON_IsObject(j) ? args : "{}");
    cJSON_Delete(j);
}

static void put_call_part(struct gg_buf *out, const struct exch_tool_call *c)
{
    gg_buf_adds(out, "{\"functionCall\":{\"id\":");
    put_cstr(out, c->id ? c->id : "");
    gg_buf_adds(out, ",\"name\":");
    put_cstr(out, c->name ? c->name : "");
    gg_buf_adds(out, ",\"args\":");
    put_args(out, c->args_json);
    gg_buf_adds(out, "}}");
}

static void put_text_part(struct gg_buf *out, const char *s, size_t n, bool thought)
{
    gg_buf_adds(out, "{\"text\":");
    gg_buf_add_json_str(out, s ? s : "", n);
    gg_buf_adds(out, thought ? ",\"thought\":true}" : "}");
}

static const char *finish_reason(enum exch_finish f)
{
    switch (f) {
    case EXCH_FIN_LENGTH: return "MAX_TOKENS";
    case EXCH_FIN_CONTENT_FILTER: return "SAFETY";
    default: return "STOP";
    }
}

/* {"candidates":[{"content":{"parts":[ -- parts follow */
static void cand_open(struct gg_buf *out)
{
    gg_buf_adds(out, "{\"candidates\":[{\"content\":{\"parts\":[");
}

static void put_grounding(const struct exch_result *res, struct gg_buf *out)
{
    if (!res->n_cites)
        return;
    gg_buf_adds(out, ",\"groundingMetadata\":{\"groundingChunks\":[");
    for (size_t i = 0; i < res->n_cites; i++) {
        gg_buf_adds(out, i ? ",{\"web\":{\"uri\":" : "{\"web\":{\"uri\":");
        put_cstr(out, res->cites[i].url ? res->cites[i].url : "");
        gg_buf_adds(out, ",\"title\":");
        put_cstr(out, res->cites[i].title ? res->cites[i].title : "");
        gg_buf_adds(out, "}}");
    }
    gg_buf_adds(out, "]}");
}

static void put_usage(const struct exch_result *res, struct gg_buf *out)
{
    const struct exch_usage *u = &res->usage;
    long long cand = (long long)(u->completion_tokens - u->reasoning_tokens);
    gg_buf_printf(out, ",\"usageMetadata\":{\"promptTokenCount\":%lld,\"candidatesTokenCount\":%lld,"
                  "\"totalTokenCount\":%lld", (long long)u->prompt_tokens, cand < 0 ? 0 : cand,
                  (long long)(u->prompt_tokens + u->completion_tokens));
    if (u->reasoning_tokens > 0)
        gg_buf_printf(out, ",\"thoughtsTokenCount\":%lld", (long long)u->reasoning_tokens);
    gg_buf_adds(out, "}");
}

/* ],"role":"model"}<,finishReason..>,"index":0}]<usage>,"modelVersion","responseId"} */
static void cand_close(const struct exch_ctx *x, const struct exch_result *res, struct gg_buf *out)
{
    gg_buf_adds(out, "],\"role\":\"model\"}");
    if (res) {
        gg_buf_printf(out, ",\"finishReason\":\"%s\"", finish_reason(res->finish));
        put_grounding(res, out);
    }
    gg_buf_adds(out, ",\"index\":0}]");
    if (res)
        put_usage(res, out);
    gg_buf_adds(out, ",\"modelVersion\":");
    put_cstr(out, x->model ? x->model : "");
    gg_buf_adds(out, ",\"responseId\":");
    put_cstr(out, x->id ? x->id : "");
    gg_buf_adds(out, "}");
}

static void whole_body(const struct exch_ctx *x, const struct exch_result *res, struct gg_buf *out)
{
    bool first = true;
    cand_open(out);
    if (res->reasoning_len && x->req && x->req->want_reasoning) {
        put_text_part(out, res->reasoning, res->reasoning_len, true);
        first = false;
    }
    if (res->text_len || res->n_calls == 0) {
        const char *t = res->text;
        size_t n = res->text_len;
        if (json_mode(x))
            gem_json_whole(res->text ? res->text : "", res->text_len, &t, &n);
        if (!first)
            gg_buf_adds(out, ",");
        put_text_part(out, t, n, false);
        first = false;
    }
    for (size_t i = 0; i < res->n_calls; i++) {
        if (!first)
            gg_buf_adds(out, ",");
        first = false;
        put_call_part(out, &res->calls[i]);
    }
    cand_close(x, res, out);
}

/* ---- framing ---------------------------------------------------------------- */

static void frame_open(struct gm_state *s, bool array, struct gg_buf *out)
{
    if (array)
        gg_buf_adds(out, s->n_chunks ? ",\r\n" : "");
    else
        gg_buf_adds(out, "data: ");
    s->n_chunks++;
}

static void frame_close(bool array, struct gg_buf *out)
{
    if (!array)
        gg_buf_adds(out, "\r\n\r\n");
}

static void begin_common(struct exch_ctx *x, bool array, struct gg_buf *out)
{
    struct gm_state *s = st(x);
    if (s->begun)
        return;
    s->begun = true;
    if (array)
        gg_buf_adds(out, "[");
}

static void event_common(struct exch_ctx *x, const struct exch_event *ev, bool array, struct gg_buf *out)
{
    struct gm_state *s = st(x);
    if (s->done)
        return;
    begin_common(x, array, out);
    bool thought = ev->kind == EXCH_EV_REASONING;
    if (ev->kind == EXCH_EV_TEXT && ev->len && json_mode(x)) {
        struct gg_buf t;
        gg_buf_init(&t, ev->len + sizeof(s->json.hold) + 1);
        gem_json_feed(&s->json, ev->text, ev->len, &t);
        if (t.len) {
            frame_open(s, array, out);
            cand_open(out);
            put_text_part(out, t.p, t.len, false);
            cand_close(x, NULL, out);
            frame_close(array, out);
        }
        gg_buf_free(&t);
    } else if ((ev->kind == EXCH_EV_TEXT || thought) && ev->len) {
        frame_open(s, array, out);
        cand_open(out);
        put_text_part(out, ev->text, ev->len, thought);
        cand_close(x, NULL, out);
        frame_close(array, out);
    } else if (ev->kind == EXCH_EV_TOOL_CALL_END && ev->call) {
        /* Gemini sends a call whole, in one chunk */
        frame_open(s, array, out);
        cand_open(out);
        put_call_part(out, ev->call);
        cand_close(x, NULL, out);
        frame_close(array, out);
    }
    /* files arrive as markdown text too; citations go into the last chunk */
}

static void finish_common(struct exch_ctx *x, const struct exch_result *res, bool array, struct gg_buf *out)
{
    struct gm_state *s = st(x);
    if (!x->req || !x->req->stream) {
        whole_body(x, res, out);
        return;
    }
    if (s->done)
        return;
    begin_common(x, array, out);
    struct gg_buf t;    /* JSON mode: the held tail that was not a fence */
    gg_buf_init(&t, sizeof(s->json.hold) + 1);
    if (json_mode(x))
        gem_json_end(&s->json, &t);
    frame_open(s, array, out);
    cand_open(out);
    put_text_part(out, t.p ? t.p : "", t.len, false);
    gg_buf_free(&t);
    cand_close(x, res, out);
    frame_close(array, out);
    if (array)
        gg_buf_adds(out, "]");
    s->done = true;
}

static const char *status_name(const struct exch_error *e)
{
    switch (e->kind) {
    case EXCH_ERR_INVALID: return "INVALID_ARGUMENT";
    case EXCH_ERR_AUTH: return "UNAUTHENTICATED";
    case EXCH_ERR_PERMISSION: return "PERMISSION_DENIED";
    case EXCH_ERR_NOT_FOUND: return "NOT_FOUND";
    case EXCH_ERR_TOO_LARGE: return "INVALID_ARGUMENT";
    case EXCH_ERR_RATE_LIMIT: return "RESOURCE_EXHAUSTED";
    case EXCH_ERR_SERVER: return "INTERNAL";
    case EXCH_ERR_UPSTREAM:
    case EXCH_ERR_OVERLOADED: return "UNAVAILABLE";
    case EXCH_ERR_TIMEOUT: return "DEADLINE_EXCEEDED";
    }
    return "UNKNOWN";
}

static void error_obj(const struct exch_error *e, struct gg_buf *out)
{
    char msg[sizeof(e->message)];
    snprintf(msg, sizeof(msg), "%s", e->message);
    gg_utf8_sanitize(msg);
    gg_buf_printf(out, "{\"error\":{\"code\":%d,\"message\":", e->status ? e->status : 500);
    put_cstr(out, msg);
    gg_buf_printf(out, ",\"status\":\"%s\"", status_name(e));
    if (e->retry_after > 0)
        gg_buf_printf(out, ",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\","
                      "\"retryDelay\":\"%ds\"}]", e->retry_after);
    gg_buf_adds(out, "}}");
}

static void fail_common(struct exch_ctx *x, const struct exch_error *e, bool array, struct gg_buf *out)
{
    struct gm_state *s = st(x);
    if (s->done)
        return;
    begin_common(x, array, out);
    frame_open(s, array, out);
    error_obj(e, out);
    frame_close(array, out);
    if (array)
        gg_buf_adds(out, "]");
    s->done = true;
}

static void sse_begin(struct exch_ctx *x, struct gg_buf *out) { begin_common(x, false, out); }
static void arr_begin(struct exch_ctx *x, struct gg_buf *out) { begin_common(x, true, out); }
static void sse_event(struct exch_ctx *x, const struct exch_event *ev, struct gg_buf *out)
{
    event_common(x, ev, false, out);
}
static void arr_event(struct exch_ctx *x, const struct exch_event *ev, struct gg_buf *out)
{
    event_common(x, ev, true, out);
}
static void sse_finish(struct exch_ctx *x, const struct exch_result *res, struct gg_buf *out)
{
    finish_common(x, res, false, out);
}
static void arr_finish(struct exch_ctx *x, const struct exch_result *res, struct gg_buf *out)
{
    finish_common(x, res, true, out);
}
static void sse_fail(struct exch_ctx *x, const struct exch_error *e, struct gg_buf *out)
{
    fail_common(x, e, false, out);
}
static void arr_fail(struct exch_ctx *x, const struct exch_error *e, struct gg_buf *out)
{
    fail_common(x, e, true, out);
}

static void gm_opts_free(void *opts)
{
    free(opts);     /* struct gem_opts (JSON mode), or NULL */
}

const struct exch_dialect dialect_gemini = {
    .name = "gemini",
    .state_size = sizeof(struct gm_state),
    .stream_ctype = "text/event-stream",
    .ping = ": keep-alive\r\n\r\n",
    .parse = gem_parse,
    .opts_free = gm_opts_free,
    .begin = sse_begin,
    .event = sse_event,
    .finish = sse_finish,
    .fail = sse_fail,
    .error_body = error_obj,
};

const struct exch_dialect dialect_gemini_array = {
    .name = "gemini",
    .state_size = sizeof(struct gm_state),
    .stream_ctype = "application/json",
    .ping = "\n",   /* JSON whitespace between array elements */
    .parse = gem_parse,
    .opts_free = gm_opts_free,
    .begin = arr_begin,
    .event = arr_event,
    .finish = arr_finish,
    .fail = arr_fail,
    .error_body = error_obj,
};

/* ---- countTokens ------------------------------------------------------------ */

int gem_count_tokens(const struct exch_parse_in *in, int64_t (*estimate)(const char *s, size_t n),
                     struct gg_buf *out, struct exch_error *err)
{
    memset(err, 0, sizeof(*err));
    cJSON *root = cJSON_ParseWithLength(in->body, in->len);
    if (!root)
        return gem_invalid(err, NULL, "Invalid JSON payload received.");
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, "generateContentRequest");
    if (!obj)
        obj = cJSON_GetObjectItemCaseSensitive(root, "generate_content_request");
    struct exch_request req;
    int rc = gem_parse_obj(obj ? obj : root, in->path_model, false, &req, err);
    cJSON_Delete(root);
    if (rc != 0)
        return -1;
    free(req.opts);
    req.opts = NULL;
    int64_t total = 0;
    for (size_t i = 0; i < req.n_msgs; i++) {
        const struct exch_message *m = &req.msgs[i];
        total += estimate(m->text, strlen(m->text)) + 258 * (int64_t)m->n_images;
        for (size_t k = 0; k < m->n_tool_calls; k++)
            total += estimate(m->tool_calls[k].name, strlen(m->tool_calls[k].name)) +
                     estimate(m->tool_calls[k].args_json, strlen(m->tool_calls[k].args_json));
    }
    for (size_t i = 0; i < req.n_tools; i++) {
        const struct exch_tool *t = &req.tools[i];
        total += estimate(t->name, strlen(t->name));
        if (t->description)
            total += estimate(t->description, strlen(t->description));
        if (t->params_json)
            total += estimate(t->params_json, strlen(t->params_json));
    }
    exch_request_free(&req);
    if (total < 1)
        total = 1;
    gg_buf_printf(out, "{\"totalTokens\":%lld}", (long long)total);
    return 0;
}

/* ---- models ---------------------------------------------------------------- */

static void display_name(const char *id, char *out, size_t n)
{
    size_t o = 0;
    bool up = true;
    for (const char *p = id; *p && o + 1 < n; p++) {
        char c = *p == '-' ? ' ' : *p;
        if (up && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        up = c == ' ';
        out[o++] = c;
    }
    out[o] = '\0';
}

static void put_model(const char *name, const struct model_choice *mc, struct gg_buf *out)
{
    char disp[160];
    display_name(name, disp, sizeof(disp));
    bool image_only = mc->model && mc->model->image_only;
    gg_buf_adds(out, "{\"name\":\"models/");
    gg_buf_add(out, name, strlen(name));   /* catalogue / resolved names: [a-z0-9.-] */
    gg_buf_adds(out, "\",\"version\":\"001\",\"displayName\":");
    put_cstr(out, disp);
    gg_buf_adds(out, ",\"description\":");
    char desc[300];
    snprintf(desc, sizeof(desc), "%s served by gemgate from a Gemini Business account pool%s.",
             mc->model ? mc->model->id : name, mc->upgraded ? " (alias)" : "");
    put_cstr(out, desc);
    gg_buf_printf(out, ",\"inputTokenLimit\":%d,\"outputTokenLimit\":%d,\"supportedGenerationMethods\":"
                  "[\"generateContent\",\"streamGenerateContent\",\"countTokens\"],\"temperature\":1,"
                  "\"maxTemperature\":2,\"topP\":0.95,\"topK\":64,\"thinking\":%s}",
                  image_only ? 32768 : 1048576, image_only ? 8192 : 65536, image_only ? "false" : "true");
}

static bool safe_name(const char *s)
{
    if (!*s || strlen(s) > 100)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '.' || *s == '_'))
            return false;
    return true;
}

int gem_models_body(const char *model, struct gg_buf *out, struct exch_error *err)
{
    struct model_choice mc;
    if (model) {
        if (!strncmp(model, "models/", 7))
            model += 7;
        if (!safe_name(model) || models_resolve(model, &mc) != 0) {
            exch_set_error(err, 404, EXCH_ERR_NOT_FOUND, "model", "model_not_found",
                           "Model is not found: models/%.100s for api version v1beta", model);
            return -1;
        }
        put_model(model, &mc, out);
        return 0;
    }
    size_t n = 0;
    const char *const *ids = models_listed(&n);
    gg_buf_adds(out, "{\"models\":[");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (models_resolve(ids[i], &mc) != 0 || !safe_name(ids[i]))
            continue;
        if (!first)
            gg_buf_adds(out, ",");
        first = false;
        put_model(ids[i], &mc, out);
    }
    gg_buf_adds(out, "]}");
    return 0;
}

/* ---- routing help ----------------------------------------------------------- */

enum gem_method gem_route(const char *path, char *model, size_t n)
{
    static const char base[] = "/v1beta/models";
    if (n)
        model[0] = '\0';
    if (!path || strncmp(path, base, sizeof(base) - 1))
        return GEM_NONE;
    const char *p = path + sizeof(base) - 1;
    if (!*p || !strcmp(p, "/"))
        return GEM_LIST;
    if (*p++ != '/')
        return GEM_NONE;
    if (!strncmp(p, "models/", 7))
        p += 7;
    const char *colon = strrchr(p, ':');
    size_t ml = colon ? (size_t)(colon - p) : strlen(p);
    if (ml == 0 || ml >= n || memchr(p, '/', ml))
        return GEM_NONE;
    memcpy(model, p, ml);
    model[ml] = '\0';
    if (!colon)
        return GEM_GET;
    if (!strcmp(colon, ":generateContent"))
        return GEM_GENERATE;
    if (!strcmp(colon, ":streamGenerateContent"))
        return GEM_STREAM;
    if (!strcmp(colon, ":countTokens"))
        return GEM_COUNT;
    model[0] = '\0';
    return GEM_NONE;
}

const struct exch_dialect *gem_dialect_for(enum gem_method m, const char *alt)
{
    if (m == GEM_STREAM && !(alt && !strcmp(alt, "sse")))
        return &dialect_gemini_array;
    return &dialect_gemini;
}

const char *gem_api_key(const char *x_goog_api_key, const char *query_key, const char *authorization)
{
    if (x_goog_api_key && *x_goog_api_key)
        return x_goog_api_key;
    if (query_key && *query_key)
        return query_key;
    if (authorization && !strncasecmp(authorization, "Bearer ", 7)) {
        const char *k = authorization + 7;
        while (*k == ' ')
            k++;
        return *k ? k : NULL;
    }
    return NULL;
}
