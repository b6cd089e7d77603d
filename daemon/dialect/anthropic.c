/* anthropic.c -- the Anthropic Messages dialect table: SSE events, the
 * non-streaming `message` body, errors.  See anthropic.h. */
#include "dialect/anthropic.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "gg_util.h"

enum blk { BLK_NONE = 0, BLK_THINKING, BLK_TEXT, BLK_TOOL };

/* exch_ctx.state while streaming */
struct anth_state {
    int index;              /* index of the open block, or of the next one when none is open */
    enum blk open;
    size_t args_sent;       /* bytes of input_json_delta sent for the open tool_use block */
};

/* ---- small writers ------------------------------------------------------ */

static void jstr(struct gg_buf *out, const char *s, size_t n)
{
    gg_buf_add_json_str(out, s ? s : "", s ? n : 0);
}

static void jstrz(struct gg_buf *out, const char *s)
{
    jstr(out, s, s ? strlen(s) : 0);
}

/* "msg_" + the exchange id's letters and digits after its own prefix */
static void msg_id(const struct exch_ctx *x, char *buf, size_t n)
{
    const char *id = x->id ? x->id : "";
    const char *us = strpbrk(id, "_-");
    if (us && us[1])
        id = us + 1;
    size_t o = (size_t)snprintf(buf, n, "msg_");
    for (; *id && o + 1 < n; id++)
        if ((*id >= '0' && *id <= '9') || (*id >= 'a' && *id <= 'z') || (*id >= 'A' && *id <= 'Z'))
            buf[o++] = *id;
    buf[o] = '\0';
}

static void signature(const struct exch_ctx *x, struct gg_buf *out)
{
    char id[96], sig[128];
    msg_id(x, id, sizeof(id));
    snprintf(sig, sizeof(sig), "gemgate.%s", id);
    jstrz(out, sig);
}

static int64_t input_tokens(const struct exch_ctx *x, const struct exch_usage *u)
{
    const struct anth_opts *o = x->req ? x->req->opts : NULL;
    if (o && o->input_tokens > 0)
        return o->input_tokens;
    return u && u->prompt_tokens > 0 ? u->prompt_tokens : 0;
}

static void usage(const struct exch_ctx *x, const struct exch_usage *u, struct gg_buf *out)
{
    gg_buf_printf(out, "{\"input_tokens\":%lld,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,"
                  "\"output_tokens\":%lld}", (long long)input_tokens(x, u),
                  (long long)(u ? u->completion_tokens : 0));
}

static const char *stop_reason(enum exch_finish f)
{
    switch (f) {
    case EXCH_FIN_STOP: return "end_turn";
    case EXCH_FIN_LENGTH: return "max_tokens";
    case EXCH_FIN_STOP_SEQUENCE: return "stop_sequence";
    case EXCH_FIN_CONTENT_FILTER: return "refusal";
    case EXCH_FIN_TOOL_CALLS: return "tool_use";
    }
    return "end_turn";
}

static void stop_fields(const struct exch_result *res, struct gg_buf *out)
{
    gg_buf_printf(out, "\"stop_reason\":\"%s\",\"stop_sequence\":", stop_reason(res->finish));
    if (res->finish == EXCH_FIN_STOP_SEQUENCE && res->stop_sequence)
        jstrz(out, res->stop_sequence);
    else
        gg_buf_adds(out, "null");
}

/* A tool call's arguments as a JSON object (the core hands valid JSON;
 * anything else becomes {}). */
static void args_object(const char *args, struct gg_buf *out)
{
    cJSON *j = args ? cJSON_Parse(args) : NULL;
    if (cJSON_IsObject(j))
        gg_buf_adds(out, args);
    else
        gg_buf_adds(out, "{}");
    cJSON_Delete(j);
}

/* ---- streaming ---------------------------------------------------------- */

static void sse_open(struct gg_buf *out, const char *event)
{
    gg_buf_printf(out, "event: %s\ndata: {\"type\":\"%s\"", event, event);
}

static void sse_close(struct gg_buf *out)
{
    gg_buf_adds(out, "}\n\n");
}

static void delta_open(struct anth_state *st, const char *type, struct gg_buf *out)
{
    sse_open(out, "content_block_delta");
    gg_buf_printf(out, ",\"index\":%d,\"delta\":{\"type\":\"%s\",", st->index, type);
}

static void block_stop(struct exch_ctx *x, struct gg_buf *out)
{
    struct anth_state *st = x->state;
    if (st->open == BLK_NONE)
        return;
    if (st->open == BLK_THINKING) {
        /* the SDK keeps the last signature_delta as the block's signature */
        delta_open(st, "signature_delta", out);
        gg_buf_adds(out, "\"signature\":");
        signature(x, out);
        gg_buf_addc(out, '}');
        sse_close(out);
    }
    sse_open(out, "content_block_stop");
    gg_buf_printf(out, ",\"index\":%d", st->index);
    sse_close(out);
    st->open = BLK_NONE;
    st->index++;
}

static void block_start(struct exch_ctx *x, enum blk kind, const struct exch_tool_call *call, struct gg_buf *out)
{
    struct anth_state *st = x->state;
    block_stop(x, out);
    sse_open(out, "content_block_start");
    gg_buf_printf(out, ",\"index\":%d,\"content_block\":", st->index);
    if (kind == BLK_THINKING) {
        gg_buf_adds(out, "{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}");
    } else if (kind == BLK_TEXT) {
        gg_buf_adds(out, "{\"type\":\"text\",\"text\":\"\"}");
    } else {
        gg_buf_adds(out, "{\"type\":\"tool_use\",\"id\":");
        jstrz(out, call ? call->id : "");
        gg_buf_adds(out, ",\"name\":");
        jstrz(out, call ? call->name : "");
        gg_buf_adds(out, ",\"input\":{}}");
    }
    sse_close(out);
    st->open = kind;
    st->args_sent = 0;
}

static void text_delta(struct exch_ctx *x, const char *s, size_t n, struct gg_buf *out)
{
    struct anth_state *st = x->state;
    if (st->open != BLK_TEXT)
        block_start(x, BLK_TEXT, NULL, out);
    delta_open(st, "text_delta", out);
    gg_buf_adds(out, "\"text\":");
    jstr(out, s, n);
    gg_buf_addc(out, '}');
    sse_close(out);
}

static void anth_begin(struct exch_ctx *x, struct gg_buf *out)
{
    char id[96];
    msg_id(x, id, sizeof(id));
    sse_open(out, "message_start");
    gg_buf_printf(out, ",\"message\":{\"id\":\"%s\",\"type\":\"message\",\"role\":\"assistant\",\"model\":", id);
    jstrz(out, x->model);
    gg_buf_adds(out, ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":");
    usage(x, NULL, out);
    gg_buf_addc(out, '}');
    sse_close(out);
}

static void anth_event(struct exch_ctx *x, const struct exch_event *ev, struct gg_buf *out)
{
    struct anth_state *st = x->state;
    switch (ev->kind) {
    case EXCH_EV_REASONING:
        if (st->open != BLK_THINKING)
            block_start(x, BLK_THINKING, NULL, out);
        delta_open(st, "thinking_delta", out);
        gg_buf_adds(out, "\"thinking\":");
        jstr(out, ev->text, ev->len);
        gg_buf_addc(out, '}');
        sse_close(out);
        break;
    case EXCH_EV_TEXT:
        if (ev->len)
            text_delta(x, ev->text, ev->len, out);
        break;
    case EXCH_EV_FILE:       /* the core sends generated files as markdown text too */
    case EXCH_EV_CITATION:   /* not emitted (see anthropic.h) */
        break;
    case EXCH_EV_TOOL_CALL_BEGIN:
        block_start(x, BLK_TOOL, ev->call, out);
        break;
    case EXCH_EV_TOOL_CALL_ARGS:
        if (st->open != BLK_TOOL || !ev->len)
            break;
        delta_open(st, "input_json_delta", out);
        gg_buf_adds(out, "\"partial_json\":");
        jstr(out, ev->text, ev->len);
        gg_buf_addc(out, '}');
        sse_close(out);
        st->args_sent += ev->len;
        break;
    case EXCH_EV_TOOL_CALL_END:
        if (st->open != BLK_TOOL)
            block_start(x, BLK_TOOL, ev->call, out);
        if (st->args_sent == 0 && ev->call && ev->call->args_json && strcmp(ev->call->args_json, "{}") != 0 &&
            *ev->call->args_json) {
            /* the arguments came whole: one delta */
            delta_open(st, "input_json_delta", out);
            gg_buf_adds(out, "\"partial_json\":");
            jstrz(out, ev->call->args_json);
            gg_buf_addc(out, '}');
            sse_close(out);
        }
        block_stop(x, out);
        break;
    }
}

static void stream_finish(struct exch_ctx *x, const struct exch_result *res, struct gg_buf *out)
{
    struct anth_state *st = x->state;
    if (st->open == BLK_NONE && st->index == 0)
        block_start(x, BLK_TEXT, NULL, out);   /* an empty answer is one empty text block */
    block_stop(x, out);
    sse_open(out, "message_delta");
    gg_buf_adds(out, ",\"delta\":{");
    stop_fields(res, out);
    gg_buf_printf(out, "},\"usage\":{\"output_tokens\":%lld}", (long long)res->usage.completion_tokens);
    sse_close(out);
    sse_open(out, "message_stop");
    sse_close(out);
}

/* ---- non-streaming ------------------------------------------------------ */

static void body_finish(struct exch_ctx *x, const struct exch_result *res, struct gg_buf *out)
{
    char id[96];
    msg_id(x, id, sizeof(id));
    gg_buf_printf(out, "{\"id\":\"%s\",\"type\":\"message\",\"role\":\"assistant\",\"model\":", id);
    jstrz(out, x->model);
    gg_buf_adds(out, ",\"content\":[");
    bool first = true;
    if (res->reasoning && res->reasoning_len) {
        gg_buf_adds(out, "{\"type\":\"thinking\",\"thinking\":");
        jstr(out, res->reasoning, res->reasoning_len);
        gg_buf_adds(out, ",\"signature\":");
        signature(x, out);
        gg_buf_addc(out, '}');
        first = false;
    }
    /* the text already carries generated files as markdown links (the core's) */
    if (res->text_len || res->n_calls == 0) {
        gg_buf_adds(out, first ? "" : ",");
        gg_buf_adds(out, "{\"type\":\"text\",\"text\":");
        jstr(out, res->text, res->text_len);
        gg_buf_addc(out, '}');
        first = false;
    }
    for (size_t i = 0; i < res->n_calls; i++) {
        gg_buf_adds(out, first ? "{\"type\":\"tool_use\",\"id\":" : ",{\"type\":\"tool_use\",\"id\":");
        jstrz(out, res->calls[i].id);
        gg_buf_adds(out, ",\"name\":");
        jstrz(out, res->calls[i].name);
        gg_buf_adds(out, ",\"input\":");
        args_object(res->calls[i].args_json, out);
        gg_buf_addc(out, '}');
        first = false;
    }
    gg_buf_adds(out, "],");
    stop_fields(res, out);
    gg_buf_adds(out, ",\"usage\":");
    usage(x, &res->usage, out);
    gg_buf_addc(out, '}');
}

static void anth_finish(struct exch_ctx *x, const struct exch_result *res, struct gg_buf *out)
{
    if (x->req && x->req->stream)
        stream_finish(x, res, out);
    else
        body_finish(x, res, out);
}

/* ---- models ------------------------------------------------------------- */

void anth_model_json(const char *id, struct gg_buf *out)
{
    gg_buf_adds(out, "{\"type\":\"model\",\"id\":");
    jstrz(out, id);
    gg_buf_adds(out, ",\"display_name\":");
    jstrz(out, id);
    gg_buf_adds(out, ",\"created_at\":\"2025-01-01T00:00:00Z\"}");
}

void anth_models_json(const char *const *ids, size_t n, struct gg_buf *out)
{
    gg_buf_adds(out, "{\"data\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            gg_buf_addc(out, ',');
        anth_model_json(ids[i], out);
    }
    gg_buf_adds(out, "],\"has_more\":false,\"first_id\":");
    if (n)
        jstrz(out, ids[0]);
    else
        gg_buf_adds(out, "null");
    gg_buf_adds(out, ",\"last_id\":");
    if (n)
        jstrz(out, ids[n - 1]);
    else
        gg_buf_adds(out, "null");
    gg_buf_addc(out, '}');
}

/* ---- errors ------------------------------------------------------------- */

const char *anth_error_type(enum exch_err_kind kind)
{
    switch (kind) {
    case EXCH_ERR_INVALID: return "invalid_request_error";
    case EXCH_ERR_AUTH: return "authentication_error";
    case EXCH_ERR_PERMISSION: return "permission_error";
    case EXCH_ERR_NOT_FOUND: return "not_found_error";
    case EXCH_ERR_TOO_LARGE: return "request_too_large";
    case EXCH_ERR_RATE_LIMIT: return "rate_limit_error";
    case EXCH_ERR_SERVER: return "api_error";
    case EXCH_ERR_UPSTREAM: return "api_error";
    case EXCH_ERR_OVERLOADED: return "overloaded_error";
    case EXCH_ERR_TIMEOUT: return "timeout_error";
    }
    return "api_error";
}

int anth_http_status(const struct exch_error *e)
{
    static const int by_kind[] = {
        [EXCH_ERR_INVALID] = 400, [EXCH_ERR_AUTH] = 401, [EXCH_ERR_PERMISSION] = 403,
        [EXCH_ERR_NOT_FOUND] = 404, [EXCH_ERR_TOO_LARGE] = 413, [EXCH_ERR_RATE_LIMIT] = 429,
        [EXCH_ERR_SERVER] = 500, [EXCH_ERR_UPSTREAM] = 502, [EXCH_ERR_OVERLOADED] = 529,
        [EXCH_ERR_TIMEOUT] = 504,
    };
    if (e->kind == EXCH_ERR_OVERLOADED)
        return 529;
    if (e->status >= 400 && e->status <= 599)
        return e->status;
    return (unsigned)e->kind < sizeof(by_kind) / sizeof(by_kind[0]) ? by_kind[e->kind] : 500;
}

/* {"type":"error","error":{"type":...,"message":...}} */
static void error_json(const struct exch_error *e, struct gg_buf *out)
{
    char msg[sizeof(e->message)];
    /* messages quote client input and are size-capped: never emit a cut or
     * invalid UTF-8 sequence */
    snprintf(msg, sizeof(msg), "%s", e->message[0] ? e->message : "error");
    gg_utf8_sanitize(msg);
    gg_buf_printf(out, "{\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":", anth_error_type(e->kind));
    jstrz(out, msg);
    gg_buf_adds(out, "}}");
}

void anth_route_error(int status, const char *code, const char *msg, struct gg_buf *out)
{
    (void)code;
    struct exch_error e = {.status = status};
    switch (status) {
    case 401: e.kind = EXCH_ERR_AUTH; break;
    case 403: e.kind = EXCH_ERR_PERMISSION; break;
    case 404: e.kind = EXCH_ERR_NOT_FOUND; break;
    case 413: e.kind = EXCH_ERR_TOO_LARGE; break;
    case 429: e.kind = EXCH_ERR_RATE_LIMIT; break;
    case 503: case 529: e.kind = EXCH_ERR_OVERLOADED; break;
    case 504: e.kind = EXCH_ERR_TIMEOUT; break;
    default: e.kind = status >= 500 ? EXCH_ERR_SERVER : EXCH_ERR_INVALID; break;
    }
    snprintf(e.message, sizeof(e.message), "%s", msg ? msg : "");
    error_json(&e, out);
}

static void anth_fail(struct exch_ctx *x, const struct exch_error *e, struct gg_buf *out)
{
    gg_buf_adds(out, "event: error\ndata: ");
    error_json(e, out);
    gg_buf_adds(out, "\n\n");
}

const struct exch_dialect dialect_anthropic = {
    .name = "anthropic",
    .state_size = sizeof(struct anth_state),
    .stream_ctype = "text/event-stream",
    .ping = "event: ping\ndata: {\"type\": \"ping\"}\n\n",
    .id_prefix = "msg_",
    .images = false,
    .parse = anth_parse,
    .opts_free = anth_opts_free,
    .begin = anth_begin,
    .event = anth_event,
    .finish = anth_finish,
    .fail = anth_fail,
    .error_body = error_json,
    .http_status = anth_http_status,
};
