/* responses.c -- the Responses dialect table: response objects, the
 * streamed event sequence, failures and the error envelope (see
 * responses.h; parsing is in responses_in.c). */
#include "responses.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gg_time.h"
#include "gg_util.h"
#include "openai.h"
#include "responses_int.h"

#define ACC_MAX (64u << 20)

enum { IT_NONE = 0, IT_REASONING, IT_MESSAGE, IT_CALL };

struct rs_state {
    bool begun, done;
    int64_t seq;            /* next sequence_number */
    int next_index;         /* output_index of the next item */
    int open, open_index;   /* the item being streamed */
    int n_messages;         /* message items so far (their ids) */
    int n_reasonings;       /* reasoning items so far */
    char item_id[160];
    struct gg_buf *acc;     /* text of the open reasoning / message item: the
                             * request's resp_opts.acc, released with the request
                             * even when neither finish nor fail runs (a client
                             * that went away), else `own` */
    struct gg_buf own;
};

static const struct resp_opts *opts_of(const struct exch_request *req)
{
    return req ? req->opts : NULL;
}

const char *responses_previous_id(const struct exch_request *req)
{
    const struct resp_opts *o = opts_of(req);
    return o ? o->previous_response_id : NULL;
}

bool responses_store(const struct exch_request *req)
{
    const struct resp_opts *o = opts_of(req);
    return o ? o->store : true;
}

/* The exchange id reduced to [A-Za-z0-9_-], without a leading "resp_". */
static void base_id(const struct exch_ctx *x, char *out, size_t n)
{
    const char *s = x->id ? x->id : "";
    if (!strncmp(s, "resp_", 5))
        s += 5;
    size_t o = 0;
    for (; *s && o + 1 < n; s++)
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-')
            out[o++] = *s;
    out[o] = '\0';
}

void responses_id(const struct exch_ctx *x, char *out, size_t n)
{
    char b[128];
    base_id(x, b, sizeof(b));
    snprintf(out, n, "resp_%s", b);
}

static void item_id(const struct exch_ctx *x, const char *prefix, int k, char *out, size_t n)
{
    char b[128];
    base_id(x, b, sizeof(b));
    if (k > 0)
        snprintf(out, n, "%s_%s_%d", prefix, b, k);
    else
        snprintf(out, n, "%s_%s", prefix, b);
}

static void put_str(struct gg_buf *out, const char *s, size_t n)
{
    gg_buf_add_json_str(out, s, n);
}

static void put_cstr(struct gg_buf *out, const char *s)
{
    if (s)
        gg_buf_add_json_str(out, s, strlen(s));
    else
        gg_buf_adds(out, "null");
}

static void put_raw(struct gg_buf *out, const char *json, const char *dflt)
{
    gg_buf_adds(out, json ? json : dflt);
}

static const char *error_code(const struct exch_error *e)
{
    switch (e->kind) {
    case EXCH_ERR_RATE_LIMIT: return "rate_limit_exceeded";
    case EXCH_ERR_INVALID: return e->code && !strncmp(e->code, "invalid_image", 13) ? e->code : "invalid_prompt";
    default: return "server_error";
    }
}

/* ---- items ---------------------------------------------------------------- */

static void put_reasoning_item(struct gg_buf *out, const char *id, const char *text, size_t n, bool done)
{
    gg_buf_adds(out, "{\"id\":");
    put_cstr(out, id);
    gg_buf_adds(out, ",\"type\":\"reasoning\",\"summary\":[");
    if (done) {
        gg_buf_adds(out, "{\"type\":\"summary_text\",\"text\":");
        put_str(out, text, n);
        gg_buf_adds(out, "}");
    }
    gg_buf_adds(out, "]}");
}

static void put_annotations(struct gg_buf *out, const struct exch_result *res, size_t text_len)
{
    gg_buf_adds(out, "[");
    for (size_t i = 0; res && i < res->n_cites; i++) {
        gg_buf_adds(out, i ? ",{\"type\":\"url_citation\",\"url\":" : "{\"type\":\"url_citation\",\"url\":");
        put_cstr(out, res->cites[i].url ? res->cites[i].url : "");
        gg_buf_adds(out, ",\"title\":");
        put_cstr(out, res->cites[i].title ? res->cites[i].title : "");
        gg_buf_printf(out, ",\"start_index\":0,\"end_index\":%zu}", text_len);
    }
    gg_buf_adds(out, "]");
}

static void put_text_part(struct gg_buf *out, const char *text, size_t n, const struct exch_result *res)
{
    gg_buf_adds(out, "{\"type\":\"output_text\",\"annotations\":");
    put_annotations(out, res, n);
    gg_buf_adds(out, ",\"logprobs\":[],\"text\":");
    put_str(out, text, n);
    gg_buf_adds(out, "}");
}

/* done: with its content; status "completed"/"incomplete"/"in_progress". */
static void put_message_item(struct gg_buf *out, const char *id, const char *status, const char *text, size_t n,
                             bool with_content, const struct exch_result *res)
{
    gg_buf_adds(out, "{\"id\":");
    put_cstr(out, id);
    gg_buf_printf(out, ",\"type\":\"message\",\"status\":\"%s\",\"content\":[", status);
    if (with_content)
        put_text_part(out, text, n, res);
    gg_buf_adds(out, "],\"role\":\"assistant\"}");
}

static void put_call_item(struct gg_buf *out, const char *id, const char *status, const struct exch_tool_call *c,
                          bool with_args)
{
    gg_buf_adds(out, "{\"id\":");
    put_cstr(out, id);
    gg_buf_printf(out, ",\"type\":\"function_call\",\"status\":\"%s\",\"arguments\":", status);
    put_cstr(out, with_args && c->args_json ? c->args_json : "");
    gg_buf_adds(out, ",\"call_id\":");
    put_cstr(out, c->id ? c->id : "");
    gg_buf_adds(out, ",\"name\":");
    put_cstr(out, c->name ? c->name : "");
    gg_buf_adds(out, "}");
}

static bool incomplete(const struct exch_result *res)
{
    return res && (res->finish == EXCH_FIN_LENGTH || res->finish == EXCH_FIN_CONTENT_FILTER);
}

static void put_output(const struct exch_ctx *x, const struct exch_result *res, struct gg_buf *out)
{
    char id[160];
    bool first = true;
    gg_buf_adds(out, "[");
    if (res->reasoning_len && x->req && x->req->want_reasoning) {
        item_id(x, "rs", 0, id, sizeof(id));
        put_reasoning_item(out, id, res->reasoning, res->reasoning_len, true);
        first = false;
    }
    if (res->text_len || res->n_calls == 0) {
        if (!first)
            gg_buf_adds(out, ",");
        item_id(x, "msg", 0, id, sizeof(id));
        put_message_item(out, id, incomplete(res) ? "incomplete" : "completed", res->text ? res->text : "",
                         res->text_len, true, res);
        first = false;
    }
    for (size_t i = 0; i < res->n_calls; i++) {
        if (!first)
            gg_buf_adds(out, ",");
        first = false;
        item_id(x, "fc", (int)i, id, sizeof(id));
        put_call_item(out, id, "completed", &res->calls[i], true);
    }
    gg_buf_adds(out, "]");
}

static void put_usage(const struct exch_result *res, struct gg_buf *out)
{
    const struct exch_usage *u = &res->usage;
    gg_buf_printf(out,
                  "{\"input_tokens\":%lld,\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":%lld,"
                  "\"output_tokens_details\":{\"reasoning_tokens\":%lld},\"total_tokens\":%lld}",
                  (long long)u->prompt_tokens, (long long)u->completion_tokens, (long long)u->reasoning_tokens,
                  (long long)(u->prompt_tokens + u->completion_tokens));
}

/* The response object; `res` NULL = nothing produced yet (output []). */
static void put_response(const struct exch_ctx *x, const char *status, const struct exch_result *res,
                         const struct exch_error *e, struct gg_buf *out)
{
    const struct resp_opts *o = opts_of(x->req);
    char rid[160];
    responses_id(x, rid, sizeof(rid));
    gg_buf_adds(out, "{\"id\":");
    put_cstr(out, rid);
    gg_buf_printf(out, ",\"object\":\"response\",\"created_at\":%lld,\"status\":\"%s\",\"background\":false",
                  (long long)x->created_s, status);
    if (res && !strcmp(status, "completed"))
        gg_buf_printf(out, ",\"completed_at\":%lld", (long long)(gg_now_ms() / 1000));
    gg_buf_adds(out, ",\"error\":");
    if (e) {
        char msg[sizeof(e->message) + 48];
        /* agents (Codex) read the delay of a retryable failure from the text */
        if (e->retry_after > 0 && !strstr(e->message, "try again"))
            snprintf(msg, sizeof(msg), "%s Please try again in %ds.", e->message, e->retry_after);
        else
            snprintf(msg, sizeof(msg), "%s", e->message);
        gg_utf8_sanitize(msg);
        gg_buf_printf(out, "{\"code\":\"%s\",\"message\":", error_code(e));
        put_cstr(out, msg);
        gg_buf_adds(out, "}");
    } else {
        gg_buf_adds(out, "null");
    }
    gg_buf_adds(out, ",\"incomplete_details\":");
    if (incomplete(res) && !strcmp(status, "incomplete"))
        gg_buf_printf(out, "{\"reason\":\"%s\"}",
                      res->finish == EXCH_FIN_LENGTH ? "max_output_tokens" : "content_filter");
    else
        gg_buf_adds(out, "null");
    gg_buf_adds(out, ",\"instructions\":");
    put_raw(out, o ? o->instructions : NULL, "null");
    gg_buf_adds(out, ",\"max_output_tokens\":");
    if (o && o->max_output_tokens)
        gg_buf_printf(out, "%lld", (long long)o->max_output_tokens);
    else
        gg_buf_adds(out, "null");
    gg_buf_adds(out, ",\"model\":");
    put_cstr(out, x->model ? x->model : "");
    gg_buf_adds(out, ",\"output\":");
    if (res)
        put_output(x, res, out);
    else
        gg_buf_adds(out, "[]");
    gg_buf_printf(out, ",\"parallel_tool_calls\":%s,\"previous_response_id\":",
                  !x->req || x->req->parallel_tool_calls ? "true" : "false");
    put_cstr(out, o ? o->previous_response_id : NULL);
    gg_buf_adds(out, ",\"reasoning\":{\"effort\":");
    put_raw(out, o ? o->effort : NULL, "null");
    gg_buf_adds(out, ",\"summary\":");
    put_raw(out, o ? o->summary : NULL, "null");
    gg_buf_printf(out, "},\"store\":%s,\"temperature\":", !o || o->store ? "true" : "false");
    put_raw(out, o ? o->temperature : NULL, "1.0");
    gg_buf_adds(out, ",\"text\":");
    put_raw(out, o ? o->text : NULL, "{\"format\":{\"type\":\"text\"}}");
    gg_buf_adds(out, ",\"tool_choice\":");
    put_raw(out, o ? o->tool_choice : NULL, "\"auto\"");
    gg_buf_adds(out, ",\"tools\":");
    put_raw(out, o ? o->tools : NULL, "[]");
    gg_buf_adds(out, ",\"top_p\":");
    put_raw(out, o ? o->top_p : NULL, "1.0");
    gg_buf_adds(out, ",\"truncation\":");
    put_raw(out, o ? o->truncation : NULL, "\"disabled\"");
    gg_buf_adds(out, ",\"usage\":");
    if (res)
        put_usage(res, out);
    else
        gg_buf_adds(out, "null");
    gg_buf_adds(out, ",\"user\":");
    put_raw(out, o ? o->user : NULL, "null");
    gg_buf_adds(out, ",\"metadata\":");
    put_raw(out, o ? o->metadata : NULL, "{}");
    gg_buf_adds(out, "}");
}

void responses_object(const struct exch_ctx *x, const struct exch_result *res, struct gg_buf *out)
{
    put_response(x, incomplete(res) ? "incomplete" : "completed", res, NULL, out);
}

void responses_deleted_body(const char *id, struct gg_buf *out)
{
    gg_buf_adds(out, "{\"id\":");
    put_cstr(out, id);
    gg_buf_adds(out, ",\"object\":\"response\",\"deleted\":true}");
}

void responses_not_found(const char *id, const char *param, struct exch_error *err)
{
    /* OpenAI: 400 previous_response_not_found for the request field, 404
     * for GET / DELETE of an unknown id */
    if (param)
        exch_set_error(err, 400, EXCH_ERR_INVALID, param, "previous_response_not_found",
                       "Previous response with id '%.80s' not found.", id ? id : "");
    else
        exch_set_error(err, 404, EXCH_ERR_NOT_FOUND, NULL, NULL, "Response with id '%.80s' not found.",
                       id ? id : "");
}

/* ---- the event stream ------------------------------------------------------- */

static struct rs_state *st(struct exch_ctx *x)
{
    return x->state;
}

/* `event: T` + `data: {"type":"T","sequence_number":N` -- the caller adds
 * its fields and ev_end closes the frame. */
static void ev_start(struct rs_state *s, struct gg_buf *out, const char *type)
{
    gg_buf_printf(out, "event: %s\ndata: {\"type\":\"%s\",\"sequence_number\":%lld", type, type,
                  (long long)s->seq++);
}

static void ev_end(struct gg_buf *out)
{
    gg_buf_adds(out, "}\n\n");
}

/* ,"item_id":..,"output_index":N */
static void ev_item_ref(struct rs_state *s, struct gg_buf *out)
{
    gg_buf_adds(out, ",\"item_id\":");
    put_cstr(out, s->item_id);
    gg_buf_printf(out, ",\"output_index\":%d", s->open_index);
}

static void rs_begin(struct exch_ctx *x, struct gg_buf *out)
{
    struct rs_state *s = st(x);
    if (s->begun)
        return;
    s->begun = true;
    struct resp_opts *o = x->req ? x->req->opts : NULL;
    s->acc = o ? &o->acc : &s->own;
    gg_buf_init(s->acc, ACC_MAX);
    ev_start(s, out, "response.created");
    gg_buf_adds(out, ",\"response\":");
    put_response(x, "in_progress", NULL, NULL, out);
    ev_end(out);
    ev_start(s, out, "response.in_progress");
    gg_buf_adds(out, ",\"response\":");
    put_response(x, "in_progress", NULL, NULL, out);
    ev_end(out);
}

static void item_added_start(struct rs_state *s, struct gg_buf *out, int kind)
{
    s->open = kind;
    s->open_index = s->next_index++;
    gg_buf_reset(s->acc);
    ev_start(s, out, "response.output_item.added");
    gg_buf_printf(out, ",\"output_index\":%d,\"item\":", s->open_index);
}

static void open_reasoning(struct exch_ctx *x, struct gg_buf *out)
{
    struct rs_state *s = st(x);
    item_id(x, "rs", s->n_reasonings++, s->item_id, sizeof(s->item_id));
    item_added_start(s, out, IT_REASONING);
    put_reasoning_item(out, s->item_id, "", 0, false);
    ev_end(out);
    ev_start(s, out, "response.reasoning_summary_part.added");
    ev_item_ref(s, out);
    gg_buf_adds(out, ",\"summary_index\":0,\"part\":{\"type\":\"summary_text\",\"text\":\"\"}");
    ev_end(out);
}

static void open_message(struct exch_ctx *x, struct gg_buf *out)
{
    struct rs_state *s = st(x);
    item_id(x, "msg", s->n_messages++, s->item_id, sizeof(s->item_id));
    item_added_start(s, out, IT_MESSAGE);
    put_message_item(out, s->item_id, "in_progress", "", 0, false, NULL);
    ev_end(out);
    ev_start(s, out, "response.content_part.added");
    ev_item_ref(s, out);
    gg_buf_adds(out, ",\"content_index\":0,\"part\":");
    put_text_part(out, "", 0, NULL);
    ev_end(out);
}

static void open_call(struct exch_ctx *x, const struct exch_tool_call *c, int index, struct gg_buf *out)
{
    struct rs_state *s = st(x);
    item_id(x, "fc", index, s->item_id, sizeof(s->item_id));
    item_added_start(s, out, IT_CALL);
    put_call_item(out, s->item_id, "in_progress", c, false);
    ev_end(out);
}

/* Close the open item; `res` (finish only) supplies annotations and the
 * final status of the message. */
static void close_item(struct exch_ctx *x, const struct exch_tool_call *call, const struct exch_result *res,
                       struct gg_buf *out)
{
    struct rs_state *s = st(x);
    const char *text = s->acc->p ? s->acc->p : "";
    size_t n = s->acc->len;
    switch (s->open) {
    case IT_REASONING:
        ev_start(s, out, "response.reasoning_summary_text.done");
        ev_item_ref(s, out);
        gg_buf_adds(out, ",\"summary_index\":0,\"text\":");
        put_str(out, text, n);
        ev_end(out);
        ev_start(s, out, "response.reasoning_summary_part.done");
        ev_item_ref(s, out);
        gg_buf_adds(out, ",\"summary_index\":0,\"part\":{\"type\":\"summary_text\",\"text\":");
        put_str(out, text, n);
        gg_buf_adds(out, "}");
        ev_end(out);
        ev_start(s, out, "response.output_item.done");
        gg_buf_printf(out, ",\"output_index\":%d,\"item\":", s->open_index);
        put_reasoning_item(out, s->item_id, text, n, true);
        ev_end(out);
        break;
    case IT_MESSAGE:
        for (size_t i = 0; res && i < res->n_cites; i++) {
            ev_start(s, out, "response.output_text.annotation.added");
            ev_item_ref(s, out);
            gg_buf_printf(out, ",\"content_index\":0,\"annotation_index\":%zu,\"annotation\":"
                          "{\"type\":\"url_citation\",\"url\":", i);
            put_cstr(out, res->cites[i].url ? res->cites[i].url : "");
            gg_buf_adds(out, ",\"title\":");
            put_cstr(out, res->cites[i].title ? res->cites[i].title : "");
            gg_buf_printf(out, ",\"start_index\":0,\"end_index\":%zu}", n);
            ev_end(out);
        }
        ev_start(s, out, "response.output_text.done");
        ev_item_ref(s, out);
        gg_buf_adds(out, ",\"content_index\":0,\"logprobs\":[],\"text\":");
        put_str(out, text, n);
        ev_end(out);
        ev_start(s, out, "response.content_part.done");
        ev_item_ref(s, out);
        gg_buf_adds(out, ",\"content_index\":0,\"part\":");
        put_text_part(out, text, n, res);
        ev_end(out);
        ev_start(s, out, "response.output_item.done");
        gg_buf_printf(out, ",\"output_index\":%d,\"item\":", s->open_index);
        put_message_item(out, s->item_id, incomplete(res) ? "incomplete" : "completed", text, n, true, res);
        ev_end(out);
        break;
    case IT_CALL:
        if (call) {
            ev_start(s, out, "response.function_call_arguments.done");
            ev_item_ref(s, out);
            gg_buf_adds(out, ",\"name\":");
            put_cstr(out, call->name ? call->name : "");
            gg_buf_adds(out, ",\"arguments\":");
            put_cstr(out, call->args_json ? call->args_json : "{}");
            ev_end(out);
            ev_start(s, out, "response.output_item.done");
            gg_buf_printf(out, ",\"output_index\":%d,\"item\":", s->open_index);
            put_call_item(out, s->item_id, "completed", call, true);
            ev_end(out);
        }
        break;
    default:
        break;
    }
    s->open = IT_NONE;
    gg_buf_reset(s->acc);
}

static void delta(struct exch_ctx *x, const char *type, const char *extra, const char *p, size_t n,
                  struct gg_buf *out)
{
    struct rs_state *s = st(x);
    if (gg_buf_add(s->acc, p, n) != 0)
        return;     /* above ACC_MAX: the core's own caps end the exchange first */
    ev_start(s, out, type);
    ev_item_ref(s, out);
    gg_buf_adds(out, extra);
    gg_buf_adds(out, ",\"delta\":");
    put_str(out, p, n);
    ev_end(out);
}

static void rs_event(struct exch_ctx *x, const struct exch_event *ev, struct gg_buf *out)
{
    struct rs_state *s = st(x);
    if (!s->begun)
        rs_begin(x, out);
    switch (ev->kind) {
    case EXCH_EV_REASONING:
        if (!ev->len)
            return;
        if (s->open != IT_REASONING) {
            close_item(x, NULL, NULL, out);
            open_reasoning(x, out);
        }
        delta(x, "response.reasoning_summary_text.delta", ",\"summary_index\":0", ev->text, ev->len, out);
        break;
    case EXCH_EV_TEXT:
        if (!ev->len)
            return;
        if (s->open != IT_MESSAGE) {
            close_item(x, NULL, NULL, out);
            open_message(x, out);
        }
        delta(x, "response.output_text.delta", ",\"content_index\":0,\"logprobs\":[]", ev->text, ev->len, out);
        break;
    case EXCH_EV_TOOL_CALL_BEGIN:
        if (!ev->call)
            return;
        close_item(x, NULL, NULL, out);
        open_call(x, ev->call, ev->call_index, out);
        break;
    case EXCH_EV_TOOL_CALL_ARGS:
        if (s->open == IT_CALL && ev->len)
            delta(x, "response.function_call_arguments.delta", "", ev->text, ev->len, out);
        break;
    case EXCH_EV_TOOL_CALL_END:
        if (!ev->call)
            return;
        if (s->open != IT_CALL) {
            close_item(x, NULL, NULL, out);
            open_call(x, ev->call, ev->call_index, out);
        }
        close_item(x, ev->call, NULL, out);
        break;
    default:
        /* files arrive as markdown text too; citations are annotations at the end */
        break;
    }
}

static void rs_release(struct rs_state *s)
{
    if (s->acc)
        gg_buf_free(s->acc);
    s->done = true;
}

static void rs_finish(struct exch_ctx *x, const struct exch_result *res, struct gg_buf *out)
{
    struct rs_state *s = st(x);
    if (!x->req || !x->req->stream) {
        responses_object(x, res, out);
        if (s->begun)
            rs_release(s);
        return;
    }
    if (s->done)
        return;
    if (!s->begun)
        rs_begin(x, out);
    if (s->open == IT_CALL)
        close_item(x, NULL, NULL, out);     /* a call without its END: dropped */
    if (s->open == IT_REASONING)
        close_item(x, NULL, res, out);
    if (s->open == IT_NONE && s->n_messages == 0 && res->n_calls == 0)
        open_message(x, out);               /* an empty answer is an empty message */
    if (s->open == IT_MESSAGE)
        close_item(x, NULL, res, out);
    bool inc = incomplete(res);
    ev_start(s, out, inc ? "response.incomplete" : "response.completed");
    gg_buf_adds(out, ",\"response\":");
    put_response(x, inc ? "incomplete" : "completed", res, NULL, out);
    ev_end(out);
    rs_release(s);
}

static void rs_fail(struct exch_ctx *x, const struct exch_error *e, struct gg_buf *out)
{
    struct rs_state *s = st(x);
    if (s->done)
        return;
    if (!s->begun)
        rs_begin(x, out);
    ev_start(s, out, "response.failed");
    gg_buf_adds(out, ",\"response\":");
    put_response(x, "failed", NULL, e, out);
    ev_end(out);
    rs_release(s);
}

static const char *type_of_kind(enum exch_err_kind k)
{
    switch (k) {
    case EXCH_ERR_INVALID:
    case EXCH_ERR_NOT_FOUND:
    case EXCH_ERR_TOO_LARGE: return "invalid_request_error";
    case EXCH_ERR_AUTH: return "authentication_error";
    case EXCH_ERR_PERMISSION: return "permission_error";
    case EXCH_ERR_RATE_LIMIT: return "rate_limit_error";
    default: return "api_error";
    }
}

static void rs_error_body(const struct exch_error *x, struct gg_buf *out)
{
    struct oai_error e;
    memset(&e, 0, sizeof(e));
    e.status = x->status;
    e.type = type_of_kind(x->kind);
    snprintf(e.param, sizeof(e.param), "%s", x->param);
    e.code = x->code;
    snprintf(e.message, sizeof(e.message), "%s", x->message);
    e.retry_after = x->retry_after;
    oai_error_json(&e, out);
}

const struct exch_dialect dialect_responses = {
    .name = "responses",
    .state_size = sizeof(struct rs_state),
    .stream_ctype = "text/event-stream",
    .ping = ": keep-alive\n\n",
    .parse = resp_parse,
    .opts_free = resp_opts_free,
    .begin = rs_begin,
    .event = rs_event,
    .finish = rs_finish,
    .fail = rs_fail,
    .error_body = rs_error_body,
    .continue_id = responses_previous_id,
    .keeps = responses_store,
    .result_id = responses_id,
    .result_body = responses_object,
    .result_deleted = responses_deleted_body,
    .result_missing = responses_not_found,
    .continue_result = responses_continued,
};
