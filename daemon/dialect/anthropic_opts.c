/* anthropic_opts.c -- Anthropic Messages requests: the shared validation
 * helpers, thinking, stop_sequences, tools, tool_choice and the input-token
 * estimate.  See anthropic.h / anthropic_int.h. */
#include "dialect/anthropic_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gg_util.h"
#include "tokens.h"
#define ESTIMATE exch_estimate_tokens

#define TOKENS_PER_ATTACHMENT 1000   /* an image of ~750x1000 px in Anthropic's formula */
#define TOKENS_PER_MESSAGE 4
#define TOKENS_TOOLS_PROMPT 300      /* the tool-use preamble */

static const char *type_name(const cJSON *j)
{
    if (!j) return "missing";
    if (cJSON_IsString(j)) return "a string";
    if (cJSON_IsNumber(j)) return "a number";
    if (cJSON_IsBool(j)) return "a boolean";
    if (cJSON_IsArray(j)) return "an array";
    if (cJSON_IsObject(j)) return "an object";
    if (cJSON_IsNull(j)) return "null";
    return "an invalid value";
}

/* 400 invalid_request_error "<param>: <reason>" */
int anth_bad(struct anth_pctx *p, const char *param, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    exch_set_error(p->err, 400, EXCH_ERR_INVALID, param, NULL, "%s: %s", param, msg);
    return -1;
}

int anth_want(struct anth_pctx *p, const char *param, const char *what, const cJSON *got)
{
    if (!got)
        return anth_bad(p, param, "Field required");
    return anth_bad(p, param, "Input should be %s (got %s)", what, type_name(got));
}

int anth_oom(struct anth_pctx *p)
{
    exch_set_error(p->err, 500, EXCH_ERR_SERVER, NULL, NULL, "out of memory");
    return -1;
}

const cJSON *anth_get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

bool anth_present(const cJSON *j)
{
    return j && !cJSON_IsNull(j);
}

/* Integer in [lo, hi] without float-cast UB. */
bool anth_int_in(const cJSON *j, double lo, double hi)
{
    if (!cJSON_IsNumber(j))
        return false;
    double v = j->valuedouble;
    return v >= lo && v <= hi && v == (double)(long long)v;
}

int anth_str_field(struct anth_pctx *p, const cJSON *o, const char *k, const char *path, bool required,
                   const char **out)
{
    char param[64];
    const cJSON *j = anth_get(o, k);
    *out = NULL;
    snprintf(param, sizeof(param), "%s%s%s", path, *path ? "." : "", k);
    if (!anth_present(j))
        return required ? anth_want(p, param, "a valid string", NULL) : 0;
    if (!cJSON_IsString(j))
        return anth_want(p, param, "a valid string", j);
    *out = j->valuestring;
    return 0;
}

/* ---- tools -------------------------------------------------------------- */

static bool valid_tool_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

int anth_parse_tools(struct anth_pctx *p, const cJSON *tools)
{
    struct exch_request *r = p->req;
    if (!anth_present(tools))
        return 0;
    if (!cJSON_IsArray(tools))
        return anth_want(p, "tools", "a valid list", tools);
    int n = cJSON_GetArraySize(tools), k = 0;
    if (n > EXCH_MAX_TOOLS)
        return anth_bad(p, "tools", "at most %d tools are supported", EXCH_MAX_TOOLS);
    if (n && !(r->tools = calloc((size_t)n, sizeof(*r->tools))))
        return anth_oom(p);
    const cJSON *t;
    cJSON_ArrayForEach(t, tools) {
        char tp[64], param[64];
        const char *type = NULL, *name, *desc;
        snprintf(tp, sizeof(tp), "tools.%d", k++);
        if (!cJSON_IsObject(t))
            return anth_want(p, tp, "a valid dictionary", t);
        if (anth_str_field(p, t, "type", tp, false, &type) != 0)
            return -1;
        snprintf(param, sizeof(param), "%s.type", tp);
        if (type && strncmp(type, "web_search_", 11) == 0) {
            r->grounding = true;   /* Anthropic's server-side web search: Gemini grounding */
            continue;
        }
        if (type && strcmp(type, "custom") != 0)
            return anth_bad(p, param, "the server tool '%.60s' is not supported by this gateway "
                       "(custom tools and web_search are)", type);
        if (anth_str_field(p, t, "name", tp, true, &name) != 0 || anth_str_field(p, t, "description", tp, false, &desc) != 0)
            return -1;
        snprintf(param, sizeof(param), "%s.name", tp);
        if (!valid_tool_name(name))
            return anth_bad(p, param, "String should match pattern '^[a-zA-Z0-9_-]{1,128}$'");
        for (size_t i = 0; i < r->n_tools; i++)
            if (strcmp(r->tools[i].name, name) == 0)
                return anth_bad(p, "tools", "Tool names must be unique.");
        const cJSON *schema = anth_get(t, "input_schema");
        snprintf(param, sizeof(param), "%s.input_schema", tp);
        if (!cJSON_IsObject(schema))
            return anth_want(p, param, "a valid dictionary", schema);
        struct exch_tool *et = &r->tools[r->n_tools++];
        et->name = strdup(name);
        et->description = gg_strdup0(desc);
        et->params_json = cJSON_PrintUnformatted(schema);
        if (!et->name || (desc && !et->description) || !et->params_json)
            return anth_oom(p);
    }
    return 0;
}

int anth_parse_tool_choice(struct anth_pctx *p, const cJSON *tc)
{
    struct exch_request *r = p->req;
    r->parallel_tool_calls = true;
    if (!anth_present(tc))
        return 0;
    if (!cJSON_IsObject(tc))
        return anth_want(p, "tool_choice", "a valid dictionary", tc);
    const char *type, *name;
    if (anth_str_field(p, tc, "type", "tool_choice", true, &type) != 0)
        return -1;
    const cJSON *dp = anth_get(tc, "disable_parallel_tool_use");
    if (anth_present(dp) && !cJSON_IsBool(dp))
        return anth_want(p, "tool_choice.disable_parallel_tool_use", "a valid boolean", dp);
    r->parallel_tool_calls = !cJSON_IsTrue(dp);
    if (strcmp(type, "auto") == 0) {
        r->tool_choice = EXCH_TOOLS_AUTO;
    } else if (strcmp(type, "any") == 0) {
        r->tool_choice = EXCH_TOOLS_REQUIRED;
    } else if (strcmp(type, "none") == 0) {
        r->tool_choice = EXCH_TOOLS_NONE;
    } else if (strcmp(type, "tool") == 0) {
        if (anth_str_field(p, tc, "name", "tool_choice", true, &name) != 0)
            return -1;
        bool known = false;
        for (size_t i = 0; i < r->n_tools && !known; i++)
            known = strcmp(r->tools[i].name, name) == 0;
        if (!known)
            return anth_bad(p, "tool_choice.name", "the tool '%.80s' is not declared in 'tools'", name);
        r->tool_choice = EXCH_TOOLS_NAMED;
        if (!(r->tool_choice_name = strdup(name)))
            return anth_oom(p);
    } else {
        return anth_bad(p, "tool_choice.type", "Input tag '%.40s' found using 'type' does not match any of the "
                   "expected tags: 'auto', 'any', 'tool', 'none'", type);
    }
    if (r->tool_choice != EXCH_TOOLS_NONE && r->tool_choice != EXCH_TOOLS_AUTO && r->n_tools == 0)
        return anth_bad(p, "tool_choice", "tool_choice '%s' requires 'tools'", type);
    return 0;
}

/* ---- the request -------------------------------------------------------- */

int anth_number_in(struct anth_pctx *p, const cJSON *root, const char *k, double lo, double hi, bool integer)
{
    const cJSON *j = anth_get(root, k);
    if (!anth_present(j))
        return 0;
    if (!cJSON_IsNumber(j) || (integer && !anth_int_in(j, -1e15, 1e15)))
        return anth_want(p, k, integer ? "a valid integer" : "a valid number", j);
    if (j->valuedouble < lo || j->valuedouble > hi) {
        if (hi >= 1e15)
            return anth_bad(p, k, "Input should be greater than or equal to %g", lo);
        return anth_bad(p, k, "Input should be between %g and %g", lo, hi);
    }
    return 0;
}

int anth_parse_thinking(struct anth_pctx *p, const cJSON *th, struct anth_opts *o)
{
    struct exch_request *r = p->req;
    if (!anth_present(th))
        return 0;
    if (!cJSON_IsObject(th))
        return anth_want(p, "thinking", "a valid dictionary", th);
    const char *type, *display;
    if (anth_str_field(p, th, "type", "thinking", true, &type) != 0 ||
        anth_str_field(p, th, "display", "thinking", false, &display) != 0)
        return -1;
    bool shown = !display || strcmp(display, "omitted") != 0;
    if (strcmp(type, "enabled") == 0) {
        const cJSON *bt = anth_get(th, "budget_tokens");
        if (!anth_present(bt) || !anth_int_in(bt, -1e15, 1e15))
            return anth_want(p, "thinking.enabled.budget_tokens", "a valid integer", bt);
        if (bt->valuedouble < 1024)
            return anth_bad(p, "thinking.enabled.budget_tokens", "Input should be greater than or equal to 1024");
        o->thinking_budget = (int64_t)bt->valuedouble;
        if (r->max_tokens && o->thinking_budget >= r->max_tokens)
            return anth_bad(p, "max_tokens", "`max_tokens` must be greater than `thinking.budget_tokens`");
        r->want_reasoning = shown;
    } else if (strcmp(type, "adaptive") == 0 || strcmp(type, "between_tools") == 0) {
        r->want_reasoning = shown;
    } else if (strcmp(type, "disabled") == 0) {
        r->want_reasoning = false;
    } else {
        return anth_bad(p, "thinking.type", "Input tag '%.40s' found using 'type' does not match any of the expected "
                   "tags: 'enabled', 'disabled', 'adaptive'", type);
    }
    if (cfg.thinking == THINKING_DROP)
        r->want_reasoning = false;
    return 0;
}

int anth_parse_stops(struct anth_pctx *p, const cJSON *ss)
{
    if (!anth_present(ss))
        return 0;
    if (!cJSON_IsArray(ss))
        return anth_want(p, "stop_sequences", "a valid list", ss);
    int k = 0, n = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, ss) {
        char param[64];
        snprintf(param, sizeof(param), "stop_sequences.%d", k++);
        if (!cJSON_IsString(s))
            return anth_want(p, param, "a valid string", s);
        if (!*s->valuestring)
            continue;
        if (n == EXCH_MAX_STOP)
            return anth_bad(p, "stop_sequences", "at most %d stop sequences are supported by this gateway", EXCH_MAX_STOP);
        if (!(p->req->stop[n++] = strdup(s->valuestring)))
            return anth_oom(p);
    }
    return 0;
}


static int64_t estimate(const char *s)
{
    return ESTIMATE(s, strlen(s));
}

int64_t anth_input_tokens(const struct exch_request *r)
{
    int64_t n = 0;
    for (size_t i = 0; i < r->n_msgs; i++) {
        const struct exch_message *m = &r->msgs[i];
        n += TOKENS_PER_MESSAGE + estimate(m->text) + (int64_t)m->n_images * TOKENS_PER_ATTACHMENT;
        for (size_t k = 0; k < m->n_tool_calls; k++)
            n += estimate(m->tool_calls[k].name) + estimate(m->tool_calls[k].args_json);
    }
    if (r->n_tools)
        n += TOKENS_TOOLS_PROMPT;
    for (size_t i = 0; i < r->n_tools; i++)
        n += estimate(r->tools[i].name) + (r->tools[i].description ? estimate(r->tools[i].description) : 0) +
             (r->tools[i].params_json ? estimate(r->tools[i].params_json) : 0);
    return n > 0 ? n : 1;
}
