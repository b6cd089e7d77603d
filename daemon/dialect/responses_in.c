/* responses_in.c -- parsing and validation of a POST /v1/responses body into
 * an exch_request (see responses.h for the accepted fields). */
#include "responses_int.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dlx.h"
#include "models.h"

#define MAX_ITEMS 10000

/* An attachment seen while building the messages; decoded once first_new
 * is known (only the current turn's parts are decoded). */
struct pending {
    int mi, pi;
    char param[64];
    const char *src;
    const char *filename;
    bool is_file, raw_b64, allow_http;
};

struct pctx {
    struct exch_request *req;
    struct pending pend[EXCH_MAX_ATTACHMENTS];
    size_t n_pend;
};

static int bad_value(struct exch_error *err, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad_value(struct exch_error *err, const char *param, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    exch_set_error(err, 400, EXCH_ERR_INVALID, param, "invalid_value", "%s", msg);
    return -1;
}

static int unsupported(struct exch_error *err, const char *param, const char *what)
{
    exch_set_error(err, 400, EXCH_ERR_INVALID, param, "unsupported_parameter",
                   "%s is not supported by this gateway.", what);
    return -1;
}

static int add_pending(struct pctx *p, struct exch_message *m, int mi, int pi, const char *param, const char *src,
                       const char *filename, bool is_file, bool raw_b64, bool allow_http, struct exch_error *err)
{
    if (p->n_pend >= EXCH_MAX_ATTACHMENTS) {
        exch_set_error(err, 400, EXCH_ERR_INVALID, param, "too_many_attachments",
                       "At most %d attachments per request are supported.", EXCH_MAX_ATTACHMENTS);
        return -1;
    }
    struct pending *q = &p->pend[p->n_pend++];
    q->mi = mi;
    q->pi = pi;
    snprintf(q->param, sizeof(q->param), "%s", param);
    q->src = src;
    q->filename = filename;
    q->is_file = is_file;
    q->raw_b64 = raw_b64;
    q->allow_http = allow_http;
    m->n_images++;
    return 0;
}

static const char *str_of(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One content part of a message or a function_call_output. */
static int parse_part(struct pctx *p, struct exch_message *m, int mi, int pi, const cJSON *part, const char *base,
                      struct exch_error *err)
{
    char param[64];
    snprintf(param, sizeof(param), "%s[%d]", base, pi);
    if (!cJSON_IsObject(part))
        return dlx_type_error(err, param, "an object", part);
    const char *t = str_of(part, "type");
    if (!t) {
        snprintf(param, sizeof(param), "%s[%d].type", base, pi);
        return dlx_missing(err, param);
    }
    if (!strcmp(t, "input_text") || !strcmp(t, "output_text") || !strcmp(t, "text") || !strcmp(t, "refusal")) {
        const char *key = !strcmp(t, "refusal") ? "refusal" : "text";
        const cJSON *tx = cJSON_GetObjectItemCaseSensitive(part, key);
        snprintf(param, sizeof(param), "%s[%d].%s", base, pi, key);
        if (!cJSON_IsString(tx))
            return dlx_type_error(err, param, "a string", tx);
        return dlx_msg_append(m, tx->valuestring, strlen(tx->valuestring), "\n", err);
    }
    if (!strcmp(t, "input_image")) {
        const char *url = str_of(part, "image_url");
        snprintf(param, sizeof(param), "%s[%d].image_url", base, pi);
        if (!url && cJSON_GetObjectItemCaseSensitive(part, "file_id"))
            return unsupported(err, param, "An input_image given by file_id (the Files API)");
        if (!url || !*url)
            return dlx_missing(err, param);
        if (strncmp(url, "data:", 5) && strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
            exch_set_error(err, 400, EXCH_ERR_INVALID, param, "invalid_image_url",
                           "Invalid image URL: expected a data: URL or an http(s) URL.");
            return -1;
        }
        return add_pending(p, m, mi, pi, param, url, NULL, false, false, true, err);
    }
    if (!strcmp(t, "input_file")) {
        const char *data = str_of(part, "file_data"), *url = str_of(part, "file_url");
        const char *fn = str_of(part, "filename");
        if (data) {
            snprintf(param, sizeof(param), "%s[%d].file_data", base, pi);
            return add_pending(p, m, mi, pi, param, data, fn, true, true, false, err);
        }
        snprintf(param, sizeof(param), "%s[%d].file_url", base, pi);
        if (url) {
            if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
                return bad_value(err, param, "Invalid file_url '%.60s': expected an http(s) URL.", url);
            return add_pending(p, m, mi, pi, param, url, fn, true, false, true, err);
        }
        snprintf(param, sizeof(param), "%s[%d]", base, pi);
        if (cJSON_GetObjectItemCaseSensitive(part, "file_id"))
            return unsupported(err, param, "An input_file given by file_id (the Files API)");
        exch_set_error(err, 400, EXCH_ERR_INVALID, param, "missing_required_parameter",
                       "An input_file needs 'file_data' (a data: URL or base64) or 'file_url'.");
        return -1;
    }
    snprintf(param, sizeof(param), "%s[%d].type", base, pi);
    return bad_value(err, param,
                     "Unsupported content part type '%.40s' (input_text, output_text, refusal, input_image "
                     "and input_file are supported).", t);
}

static int parse_content(struct pctx *p, struct exch_message *m, int mi, const cJSON *content, const char *base,
                         struct exch_error *err)
{
    if (cJSON_IsString(content))
        return dlx_msg_append(m, content->valuestring, strlen(content->valuestring), "\n", err);
    if (!cJSON_IsArray(content))
        return dlx_type_error(err, base, "a string or an array of content parts", content);
    int pi = 0;
    const cJSON *part;
    cJSON_ArrayForEach(part, content) {
        if (parse_part(p, m, mi, pi++, part, base, err) != 0)
            return -1;
    }
    return 0;
}

static const char *call_name(const struct exch_request *req, const char *id)
{
    for (size_t i = req->n_msgs; i-- > 0;)
        for (size_t k = 0; k < req->msgs[i].n_tool_calls; k++)
            if (!strcmp(req->msgs[i].tool_calls[k].id, id))
                return req->msgs[i].tool_calls[k].name;
    return NULL;
}

static int parse_item(struct pctx *p, const cJSON *it, int ii, struct exch_error *err)
{
    struct exch_request *req = p->req;
    char base[64], param[64];
    snprintf(base, sizeof(base), "input[%d]", ii);
    if (!cJSON_IsObject(it))
        return dlx_type_error(err, base, "an object", it);
    const char *type = str_of(it, "type");
    if (!type && cJSON_GetObjectItemCaseSensitive(it, "role"))
        type = "message";
    if (!type) {
        snprintf(param, sizeof(param), "%s.type", base);
        return dlx_missing(err, param);
    }
    if (!strcmp(type, "message")) {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(it, "role");
        snprintf(param, sizeof(param), "%s.role", base);
        if (!role)
            return dlx_missing(err, param);
        if (!cJSON_IsString(role))
            return dlx_type_error(err, param, "a string", role);
        const char *r = role->valuestring;
        enum exch_role er;
        if (!strcmp(r, "user"))
            er = EXCH_USER;
        else if (!strcmp(r, "assistant"))
            er = EXCH_ASSISTANT;
        else if (!strcmp(r, "system") || !strcmp(r, "developer"))
            er = EXCH_SYSTEM;
        else
            return bad_value(err, param,
                             "Invalid value: '%.40s'. Supported values are: 'user', 'assistant', 'system', and 'developer'.", r);
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(it, "content");
        snprintf(param, sizeof(param), "%s.content", base);
        if (!content)
            return dlx_missing(err, param);
        struct exch_message *m = dlx_push_msg(req, er, err);
        if (!m)
            return -1;
        return parse_content(p, m, (int)req->n_msgs - 1, content, param, err);
    }
    if (!strcmp(type, "function_call")) {
        const cJSON *cid = cJSON_GetObjectItemCaseSensitive(it, "call_id");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(it, "arguments");
        snprintf(param, sizeof(param), "%s.call_id", base);
        if (!cJSON_IsString(cid) || !*cid->valuestring)
            return cid ? dlx_type_error(err, param, "a non-empty string", cid) : dlx_missing(err, param);
        snprintf(param, sizeof(param), "%s.name", base);
        if (!cJSON_IsString(name) || !*name->valuestring)
            return name ? dlx_type_error(err, param, "a non-empty string", name) : dlx_missing(err, param);
        snprintf(param, sizeof(param), "%s.arguments", base);
        char *printed = NULL;
        const char *a;
        if (cJSON_IsString(args))
            a = args->valuestring;
        else if (cJSON_IsObject(args))
            a = printed = cJSON_PrintUnformatted(args);
        else
            return args ? dlx_type_error(err, param, "a string", args) : dlx_missing(err, param);
        if (!a)
            return dlx_oom(err);
        /* consecutive calls (and calls right after the assistant's text)
         * belong to one assistant turn */
        struct exch_message *m = req->n_msgs && req->msgs[req->n_msgs - 1].role == EXCH_ASSISTANT
                                     ? &req->msgs[req->n_msgs - 1] : dlx_push_msg(req, EXCH_ASSISTANT, err);
        int rc = m ? dlx_push_call(m, cid->valuestring, name->valuestring, a, err) : -1;
        cJSON_free(printed);
        return rc;
    }
    if (!strcmp(type, "function_call_output")) {
        const cJSON *cid = cJSON_GetObjectItemCaseSensitive(it, "call_id");
        const cJSON *out = cJSON_GetObjectItemCaseSensitive(it, "output");
        snprintf(param, sizeof(param), "%s.call_id", base);
        if (!cJSON_IsString(cid) || !*cid->valuestring)
            return cid ? dlx_type_error(err, param, "a non-empty string", cid) : dlx_missing(err, param);
        snprintf(param, sizeof(param), "%s.output", base);
        if (!out)
            return dlx_missing(err, param);
        const char *nm = call_name(req, cid->valuestring);
        struct exch_message *m = dlx_push_msg(req, EXCH_TOOL, err);
        if (!m)
            return -1;
        if (!(m->tool_call_id = strdup(cid->valuestring)) || (nm && !(m->name = strdup(nm))))
            return dlx_oom(err);
        return parse_content(p, m, (int)req->n_msgs - 1, out, param, err);
    }
    if (!strcmp(type, "reasoning"))
        return 0;   /* earlier turns' reasoning: not sent upstream */
    snprintf(param, sizeof(param), "%s.type", base);
    if (!strcmp(type, "item_reference"))
        return unsupported(err, param, "An item_reference input item (use previous_response_id or send the items)");
    return bad_value(err, param,
                     "Unsupported input item type '%.40s' (message, function_call, function_call_output and "
                     "reasoning are supported).", type);
}

static int parse_input(struct pctx *p, const cJSON *input, struct exch_error *err)
{
    struct exch_request *req = p->req;
    if (!input)
        return dlx_missing(err, "input");
    if (cJSON_IsString(input)) {
        struct exch_message *m = dlx_push_msg(req, EXCH_USER, err);
        return m ? dlx_msg_append(m, input->valuestring, strlen(input->valuestring), NULL, err) : -1;
    }
    if (!cJSON_IsArray(input))
        return dlx_type_error(err, "input", "a string or an array of input items", input);
    int n = cJSON_GetArraySize(input);
    if (n > MAX_ITEMS) {
        exch_set_error(err, 400, EXCH_ERR_INVALID, "input", "array_above_max_length",
                       "Invalid 'input': at most %d items are supported.", MAX_ITEMS);
        return -1;
    }
    int ii = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, input) {
        if (parse_item(p, it, ii++, err) != 0)
            return -1;
    }
    return 0;
}

static char *echo(const cJSON *j)
{
    return j && !cJSON_IsNull(j) ? cJSON_PrintUnformatted(j) : NULL;
}

static int parse_tools(struct exch_request *req, struct resp_opts *o, const cJSON *tools, struct exch_error *err)
{
    if (!tools || cJSON_IsNull(tools))
        return 0;
    if (!cJSON_IsArray(tools))
        return dlx_type_error(err, "tools", "an array", tools);
    int i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tools) {
        char param[64];
        snprintf(param, sizeof(param), "tools[%d]", i++);
        if (!cJSON_IsObject(t))
            return dlx_type_error(err, param, "an object", t);
        const char *type = str_of(t, "type");
        if (!type) {
            snprintf(param, sizeof(param), "tools[%d].type", i - 1);
            return dlx_missing(err, param);
        }
        if (!strncmp(type, "web_search", 10)) {
            req->grounding = true;
            req->model.tools |= TOOLS_SEARCH;
            continue;
        }
        if (strcmp(type, "function") != 0)
            continue;   /* other hosted tools (file_search, computer, mcp, ...) are not offered */
        /* flat Responses form; the nested Chat form is tolerated */
        const cJSON *fn = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(t, "function"))
                              ? cJSON_GetObjectItemCaseSensitive(t, "function") : t;
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
        snprintf(param, sizeof(param), "tools[%d].name", i - 1);
        if (!cJSON_IsString(name) || !*name->valuestring)
            return name ? dlx_type_error(err, param, "a non-empty string", name) : dlx_missing(err, param);
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(fn, "parameters");
        snprintf(param, sizeof(param), "tools[%d].parameters", i - 1);
        if (params && !cJSON_IsNull(params) && !cJSON_IsObject(params))
            return dlx_type_error(err, param, "an object", params);
        char *pj = cJSON_IsObject(params) ? cJSON_PrintUnformatted(params) : NULL;
        if (cJSON_IsObject(params) && !pj)
            return dlx_oom(err);
        int rc = dlx_push_tool(req, name->valuestring, str_of(fn, "description"), pj, err);
        cJSON_free(pj);
        if (rc != 0)
            return -1;
    }
    return (o->tools = echo(tools)) ? 0 : dlx_oom(err);
}

static int parse_tool_choice(struct exch_request *req, const cJSON *tc, struct exch_error *err)
{
    req->tool_choice = EXCH_TOOLS_AUTO;
    if (!tc || cJSON_IsNull(tc))
        return 0;
    const char *mode = cJSON_IsString(tc) ? tc->valuestring : NULL;
    if (cJSON_IsObject(tc)) {
        const char *type = str_of(tc, "type");
        if (type && !strcmp(type, "function")) {
            const char *name = str_of(tc, "name");
            if (!name)
                return dlx_missing(err, "tool_choice.name");
            for (size_t i = 0; i < req->n_tools; i++)
                if (!strcmp(req->tools[i].name, name)) {
                    req->tool_choice = EXCH_TOOLS_NAMED;
                    return (req->tool_choice_name = strdup(name)) ? 0 : dlx_oom(err);
                }
            return bad_value(err, "tool_choice", "Tool choice 'function' named '%.60s' not found in 'tools' parameter.",
                             name);
        }
        if (type && !strcmp(type, "allowed_tools"))
            mode = str_of(tc, "mode");      /* the subset itself is not enforced */
        else if (type && !strncmp(type, "web_search", 10)) {
            req->grounding = true;
            req->model.tools |= TOOLS_SEARCH;
            return 0;
        } else if (!type)
            return dlx_missing(err, "tool_choice.type");
        else
            return 0;   /* a hosted tool we do not offer: auto */
        if (!mode)
            return dlx_missing(err, "tool_choice.mode");
    } else if (!mode) {
        return dlx_type_error(err, "tool_choice", "a string or an object", tc);
    }
    if (!strcmp(mode, "auto"))
        req->tool_choice = EXCH_TOOLS_AUTO;
    else if (!strcmp(mode, "none"))
        req->tool_choice = EXCH_TOOLS_NONE;
    else if (!strcmp(mode, "required") && req->n_tools)
        req->tool_choice = EXCH_TOOLS_REQUIRED;
    else if (!strcmp(mode, "required"))
        return bad_value(err, "tool_choice", "Tool choice '%s' must be specified with 'tools' parameter.", mode);
    else
        return bad_value(err, "tool_choice",
                         "Invalid value: '%.40s'. Supported values are: 'none', 'auto', and 'required'.", mode);
    return 0;
}

/* Scalar settings: validated, then echoed. */
static int parse_settings(const cJSON *root, struct exch_request *req, struct resp_opts *o, struct exch_error *err)
{
    const cJSON *v;
    v = cJSON_GetObjectItemCaseSensitive(root, "stream");
    if (v && !cJSON_IsNull(v) && !cJSON_IsBool(v))
        return dlx_type_error(err, "stream", "a boolean", v);
    req->stream = cJSON_IsTrue(v);
    v = cJSON_GetObjectItemCaseSensitive(root, "store");
    if (v && !cJSON_IsNull(v) && !cJSON_IsBool(v))
        return dlx_type_error(err, "store", "a boolean", v);
    o->store = !cJSON_IsFalse(v);
    v = cJSON_GetObjectItemCaseSensitive(root, "parallel_tool_calls");
    if (v && !cJSON_IsNull(v) && !cJSON_IsBool(v))
        return dlx_type_error(err, "parallel_tool_calls", "a boolean", v);
    req->parallel_tool_calls = !cJSON_IsFalse(v);
    v = cJSON_GetObjectItemCaseSensitive(root, "background");
    if (cJSON_IsTrue(v))
        return unsupported(err, "background", "Background mode");
    v = cJSON_GetObjectItemCaseSensitive(root, "conversation");
    if (v && !cJSON_IsNull(v))
        return unsupported(err, "conversation", "The Conversations API");
    v = cJSON_GetObjectItemCaseSensitive(root, "prompt");
    if (v && !cJSON_IsNull(v))
        return unsupported(err, "prompt", "A stored prompt template");
    v = cJSON_GetObjectItemCaseSensitive(root, "previous_response_id");
    if (v && !cJSON_IsNull(v)) {
        if (!cJSON_IsString(v) || !*v->valuestring)
            return dlx_type_error(err, "previous_response_id", "a non-empty string", v);
        if (!(o->previous_response_id = strdup(v->valuestring)))
            return dlx_oom(err);
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "max_output_tokens");
    if (v && !cJSON_IsNull(v)) {
        if (!dlx_int_in(v, -1e15, 1e15))
            return dlx_type_error(err, "max_output_tokens", "an integer", v);
        if (v->valuedouble < 1) {
            exch_set_error(err, 400, EXCH_ERR_INVALID, "max_output_tokens", "integer_below_min_value",
                           "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 1.");
            return -1;
        }
        req->max_tokens = o->max_output_tokens = (int64_t)v->valuedouble;
    }
    static const struct { const char *k; double lo, hi; } nums[] = {{"temperature", 0, 2}, {"top_p", 0, 1}};
    for (size_t i = 0; i < 2; i++) {
        v = cJSON_GetObjectItemCaseSensitive(root, nums[i].k);
        if (!v || cJSON_IsNull(v))
            continue;
        if (!cJSON_IsNumber(v))
            return dlx_type_error(err, nums[i].k, "a number", v);
        if (v->valuedouble < nums[i].lo || v->valuedouble > nums[i].hi) {
            exch_set_error(err, 400, EXCH_ERR_INVALID, nums[i].k, "decimal_above_max_value",
                           "Invalid '%s': expected a value between %g and %g.", nums[i].k, nums[i].lo, nums[i].hi);
            return -1;
        }
        char **dst = i == 0 ? &o->temperature : &o->top_p;
        if (!(*dst = echo(v)))
            return dlx_oom(err);
    }
    static const char *const strs[] = {"instructions", "user", "truncation"};
    for (size_t i = 0; i < 3; i++) {
        v = cJSON_GetObjectItemCaseSensitive(root, strs[i]);
        if (!v || cJSON_IsNull(v))
            continue;
        if (!cJSON_IsString(v))
            return dlx_type_error(err, strs[i], "a string", v);
        if (i == 2 && strcmp(v->valuestring, "auto") && strcmp(v->valuestring, "disabled"))
            return bad_value(err, "truncation",
                             "Invalid value: '%.40s'. Supported values are: 'auto' and 'disabled'.", v->valuestring);
        char **dst = i == 0 ? &o->instructions : i == 1 ? &o->user : &o->truncation;
        if (!(*dst = echo(v)))
            return dlx_oom(err);
    }
    static const char *const objs[] = {"metadata", "text"};
    for (size_t i = 0; i < 2; i++) {
        v = cJSON_GetObjectItemCaseSensitive(root, objs[i]);
        if (!v || cJSON_IsNull(v))
            continue;
        if (!cJSON_IsObject(v))
            return dlx_type_error(err, objs[i], "an object", v);
        char **dst = i == 0 ? &o->metadata : &o->text;
        if (!(*dst = echo(v)))
            return dlx_oom(err);
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "reasoning");
    if (v && !cJSON_IsNull(v)) {
        if (!cJSON_IsObject(v))
            return dlx_type_error(err, "reasoning", "an object", v);
        const cJSON *eff = cJSON_GetObjectItemCaseSensitive(v, "effort");
        if (eff && !cJSON_IsNull(eff) && !cJSON_IsString(eff))
            return dlx_type_error(err, "reasoning.effort", "a string", eff);
        const cJSON *sum = cJSON_GetObjectItemCaseSensitive(v, "summary");
        if (!sum || cJSON_IsNull(sum))
            sum = cJSON_GetObjectItemCaseSensitive(v, "generate_summary");   /* deprecated spelling */
        if (sum && !cJSON_IsNull(sum)) {
            if (!cJSON_IsString(sum))
                return dlx_type_error(err, "reasoning.summary", "a string", sum);
            const char *s = sum->valuestring;
            if (strcmp(s, "auto") && strcmp(s, "concise") && strcmp(s, "detailed"))
                return bad_value(err, "reasoning.summary",
                                 "Invalid value: '%.40s'. Supported values are: 'auto', 'concise', and 'detailed'.", s);
            req->want_reasoning = cfg.thinking != THINKING_DROP;
        }
        if ((eff && !cJSON_IsNull(eff) && !(o->effort = echo(eff))) ||
            (sum && !cJSON_IsNull(sum) && !(o->summary = echo(sum))))
            return dlx_oom(err);
    }
    return 0;
}

void resp_opts_free(void *opts)
{
    struct resp_opts *o = opts;
    if (!o)
        return;
    free(o->previous_response_id);
    gg_buf_free(&o->acc);
    char *const echoes[] = {o->instructions, o->metadata, o->tools, o->tool_choice, o->text, o->temperature,
                            o->top_p, o->user, o->truncation, o->effort, o->summary};
    for (size_t i = 0; i < sizeof(echoes) / sizeof(echoes[0]); i++)
        cJSON_free(echoes[i]);
    free(o);
}

int resp_parse(const struct exch_parse_in *in, struct exch_request *req, struct exch_error *err)
{
    memset(req, 0, sizeof(*req));
    memset(err, 0, sizeof(*err));
    struct pctx p = {.req = req};
    int rc = -1;
    struct resp_opts *o = calloc(1, sizeof(*o));
    cJSON *root = cJSON_ParseWithLength(in->body, in->len);
    if (!o) {
        dlx_oom(err);
        goto out;
    }
    req->opts = o;
    if (!cJSON_IsObject(root)) {
        exch_set_error(err, 400, EXCH_ERR_INVALID, NULL, "invalid_json",
                       "We could not parse the JSON body of your request; expected a JSON object.");
        goto out;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!cJSON_IsString(model)) {
        if (model)
            dlx_type_error(err, "model", "a string", model);
        else
            dlx_missing(err, "model");
        goto out;
    }
    if (parse_settings(root, req, o, err) != 0)
        goto out;
    const cJSON *ins = cJSON_GetObjectItemCaseSensitive(root, "instructions");
    if (cJSON_IsString(ins) && *ins->valuestring) {
        struct exch_message *m = dlx_push_msg(req, EXCH_SYSTEM, err);
        if (!m || dlx_msg_append(m, ins->valuestring, strlen(ins->valuestring), NULL, err) != 0)
            goto out;
    }
    if (parse_tools(req, o, cJSON_GetObjectItemCaseSensitive(root, "tools"), err) != 0)
        goto out;
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(root, "tool_choice");
    if (parse_tool_choice(req, tc, err) != 0 || (tc && !cJSON_IsNull(tc) && !(o->tool_choice = echo(tc)) &&
                                                 dlx_oom(err)))
        goto out;
    if (parse_input(&p, cJSON_GetObjectItemCaseSensitive(root, "input"), err) != 0)
        goto out;
    size_t n_user = 0;
    for (size_t i = 0; i < req->n_msgs; i++) {
        if (req->msgs[i].role == EXCH_ASSISTANT)
            req->first_new = i + 1;
        n_user += req->msgs[i].role != EXCH_SYSTEM;
    }
    if (n_user == 0) {
        exch_set_error(err, 400, EXCH_ERR_INVALID, "input", "empty_array",
                       "Invalid 'input': expected at least one input message or item.");
        goto out;
    }
    for (size_t i = 0; i < p.n_pend; i++) {
        const struct pending *q = &p.pend[i];
        if (dlx_attach(req, q->mi, q->pi, q->param, q->src, q->raw_b64, NULL, q->filename, q->is_file,
                       q->allow_http, err) != 0)
            goto out;
    }
    if (!(req->model_req = strdup(model->valuestring))) {
        dlx_oom(err);
        goto out;
    }
    req->file_urls = cfg.image_output == IMAGE_OUT_URL;
    unsigned extra = req->model.tools;
    if (models_resolve(model->valuestring, &req->model) != 0) {
        char names[512];
        models_names(names, sizeof(names));
        exch_set_error(err, 404, EXCH_ERR_NOT_FOUND, "model", "model_not_found",
                       "The model '%.100s' does not exist or you do not have access to it. Available models: %s.",
                       model->valuestring, names);
        goto out;
    }
    req->model.tools |= extra;
    rc = 0;
out:
    cJSON_Delete(root);
    if (rc != 0) {
        resp_opts_free(req->opts);
        req->opts = NULL;
        exch_request_free(req);
    }
    return rc;
}

/* A function_call_output continued through previous_response_id names only
 * its call_id: the tool's name comes from the kept response's function_call
 * items, so the model sees which tool answered. */
void responses_continued(struct exch_request *req, const char *body, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *out = cJSON_GetObjectItemCaseSensitive(root, "output");
    const cJSON *it;
    cJSON_ArrayForEach(it, out) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(it, "type");
        const cJSON *cid = cJSON_GetObjectItemCaseSensitive(it, "call_id");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
        if (!cJSON_IsString(type) || strcmp(type->valuestring, "function_call") != 0 || !cJSON_IsString(cid) ||
            !cJSON_IsString(name))
            continue;
        for (size_t i = req->first_new; i < req->n_msgs; i++) {
            struct exch_message *m = &req->msgs[i];
            if (m->role == EXCH_TOOL && !m->name && m->tool_call_id && !strcmp(m->tool_call_id, cid->valuestring)) {
                char *nm = strdup(name->valuestring);
                if (!nm)
                    break;      /* no memory: the result goes without a name, as it would have */
                m->name = nm;
            }
        }
    }
    cJSON_Delete(root);
}
