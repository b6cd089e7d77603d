/* openai_tools.c -- the tool side of the OpenAI chat dialect (see
 * openai_chat.h): `tools` / `tool_choice` / `parallel_tool_calls` in,
 * assistant `tool_calls` and `role: tool` messages in, `message.tool_calls`
 * and streamed `delta.tool_calls` out.  Calls are emulated by the core
 * (docs/TOOLS.md); this file only maps shapes. */
#include "openai_chat.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "dlx.h"

static const char *str_at(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int parse_tool_choice(const cJSON *tc, struct exch_request *req, struct exch_error *err)
{
    req->tool_choice = EXCH_TOOLS_AUTO;
    if (!tc || cJSON_IsNull(tc))
        return 0;
    if (cJSON_IsString(tc)) {
        const char *m = tc->valuestring;
        if (!strcmp(m, "none"))
            req->tool_choice = EXCH_TOOLS_NONE;
        else if (!strcmp(m, "required"))
            req->tool_choice = EXCH_TOOLS_REQUIRED;
        else if (strcmp(m, "auto") != 0) {
            oai_err(err, 400, "tool_choice", "invalid_value",
                    "Invalid value: '%.40s'. Supported values are: 'none', 'auto', and 'required'.", m);
            return -1;
        }
    } else if (cJSON_IsObject(tc)) {
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tc, "function");
        const char *name = str_at(fn, "name");
        if (!name) {
            oai_err(err, 400, "tool_choice.function.name", "missing_required_parameter",
                    "Missing required parameter: 'tool_choice.function.name'.");
            return -1;
        }
        size_t i = 0;
        while (i < req->n_tools && strcmp(req->tools[i].name, name) != 0)
            i++;
        if (i == req->n_tools) {
            oai_err(err, 400, "tool_choice", "invalid_value",
                    "Invalid value for 'tool_choice': function '%.60s' is not one of the declared tools.", name);
            return -1;
        }
        req->tool_choice = EXCH_TOOLS_NAMED;
        if (!(req->tool_choice_name = strdup(name)))
            return dlx_oom(err);
    } else {
        return oai_type_error(err, "tool_choice", "a string or an object", tc);
    }
    if (req->n_tools == 0 && req->tool_choice != EXCH_TOOLS_NONE) {
        oai_err(err, 400, "tool_choice", "invalid_value",
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.");
        return -1;
    }
    return 0;
}

int oai_parse_tools(const cJSON *root, struct exch_request *req, struct exch_error *err)
{
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(root, "tools");
    int i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tools) {
        char param[64];
        snprintf(param, sizeof(param), "tools[%d]", i);
        if (!cJSON_IsObject(t))
            return oai_type_error(err, param, "an object", t);
        const char *type = str_at(t, "type");
        if (type && strcmp(type, "function") != 0) {
            i++;
            continue;       /* custom / hosted tools are not offered */
        }
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(t, "function");
        snprintf(param, sizeof(param), "tools[%d].function", i);
        if (!cJSON_IsObject(fn))
            return fn ? oai_type_error(err, param, "an object", fn) : dlx_missing(err, param);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
        snprintf(param, sizeof(param), "tools[%d].function.name", i);
        if (!cJSON_IsString(name) || !*name->valuestring)
            return name ? oai_type_error(err, param, "a non-empty string", name) : dlx_missing(err, param);
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(fn, "parameters");
        snprintf(param, sizeof(param), "tools[%d].function.parameters", i);
        if (params && !cJSON_IsNull(params) && !cJSON_IsObject(params))
            return oai_type_error(err, param, "an object", params);
        if (req->n_tools >= EXCH_MAX_TOOLS) {
            oai_err(err, 400, "tools", "array_above_max_length",
                    "Invalid 'tools': array too long. Expected an array with maximum length %d.", EXCH_MAX_TOOLS);
            return -1;
        }
        char *pj = cJSON_IsObject(params) ? cJSON_PrintUnformatted(params) : NULL;
        if (cJSON_IsObject(params) && !pj)
            return dlx_oom(err);
        int rc = dlx_push_tool(req, name->valuestring, str_at(fn, "description"), pj, err);
        cJSON_free(pj);
        if (rc != 0)
            return -1;
        i++;
    }
    const cJSON *ptc = cJSON_GetObjectItemCaseSensitive(root, "parallel_tool_calls");
    if (ptc && !cJSON_IsNull(ptc) && !cJSON_IsBool(ptc))
        return oai_type_error(err, "parallel_tool_calls", "a boolean", ptc);
    req->parallel_tool_calls = !cJSON_IsFalse(ptc);
    return parse_tool_choice(cJSON_GetObjectItemCaseSensitive(root, "tool_choice"), req, err);
}

int oai_parse_msg_tools(const cJSON *m, int i, struct exch_message *om, struct exch_error *err)
{
    char param[64];
    if (om->role == EXCH_TOOL) {
        const char *id = str_at(m, "tool_call_id");
        if (!id && !cJSON_GetObjectItemCaseSensitive(m, "name")) {     /* legacy role function: name only */
            snprintf(param, sizeof(param), "messages[%d].tool_call_id", i);
            return dlx_missing(err, param);
        }
        return id && !(om->tool_call_id = strdup(id)) ? dlx_oom(err) : 0;
    }
    const cJSON *tcs = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
    if (om->role != EXCH_ASSISTANT || !tcs || cJSON_IsNull(tcs))
        return 0;
    snprintf(param, sizeof(param), "messages[%d].tool_calls", i);
    if (!cJSON_IsArray(tcs))
        return oai_type_error(err, param, "an array", tcs);
    int k = 0;
    const cJSON *tc;
    cJSON_ArrayForEach(tc, tcs) {
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tc, "function");
        const char *id = str_at(tc, "id"), *name = str_at(fn, "name"), *args = str_at(fn, "arguments");
        snprintf(param, sizeof(param), "messages[%d].tool_calls[%d]", i, k++);
        if (!id || !name) {
            oai_err(err, 400, param, "missing_required_parameter",
                    "Missing required parameter: '%s.%s'.", param, !id ? "id" : "function.name");
            return -1;
        }
        if (dlx_push_call(om, id, name, args && *args ? args : "{}", err) != 0)
            return -1;
    }
    return 0;
}

static void call_json(const struct exch_tool_call *c, struct gg_buf *b)
{
    gg_buf_adds(b, "{\"id\":");
    gg_buf_add_json_str(b, c->id, strlen(c->id));
    gg_buf_adds(b, ",\"type\":\"function\",\"function\":{\"name\":");
    gg_buf_add_json_str(b, c->name, strlen(c->name));
    gg_buf_adds(b, ",\"arguments\":");
    gg_buf_add_json_str(b, c->args_json, strlen(c->args_json));
    gg_buf_adds(b, "}}");
}

void oai_tool_calls_json(const struct exch_result *res, struct gg_buf *b)
{
    gg_buf_adds(b, ",\"tool_calls\":[");
    for (size_t i = 0; i < res->n_calls; i++) {
        if (i)
            gg_buf_addc(b, ',');
        call_json(&res->calls[i], b);
    }
    gg_buf_addc(b, ']');
}

/* The delta of one TOOL_CALL event: BEGIN gives index, id, type and name
 * with empty arguments; ARGS pieces give only index and arguments. */
bool oai_tool_delta(const struct exch_event *ev, struct gg_buf *b)
{
    if (ev->kind == EXCH_EV_TOOL_CALL_BEGIN) {
        gg_buf_printf(b, "{\"tool_calls\":[{\"index\":%d,\"id\":", ev->call_index);
        gg_buf_add_json_str(b, ev->call->id, strlen(ev->call->id));
        gg_buf_adds(b, ",\"type\":\"function\",\"function\":{\"name\":");
        gg_buf_add_json_str(b, ev->call->name, strlen(ev->call->name));
        gg_buf_adds(b, ",\"arguments\":\"\"}}]}");
        return true;
    }
    if (ev->kind == EXCH_EV_TOOL_CALL_ARGS && ev->len) {
        gg_buf_printf(b, "{\"tool_calls\":[{\"index\":%d,\"function\":{\"arguments\":", ev->call_index);
        gg_buf_add_json_str(b, ev->text, ev->len);
        gg_buf_adds(b, "}}]}");
        return true;
    }
    return false;
}
