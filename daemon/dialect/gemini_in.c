/* gemini_in.c -- parsing and validation of a GenerateContentRequest into an
 * exch_request (see gemini.h for the accepted fields and the tool-call id
 * rule). */
#include "gemini_int.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dlx.h"
#include "models.h"

#define MAX_CONTENTS 10000

struct pending {
    int mi, pi;
    char param[64];
    const char *src, *mime;
    bool raw_b64;
};

struct gctx {
    struct exch_request *req;
    struct pending pend[EXCH_MAX_ATTACHMENTS];
    size_t n_pend;
};

int gem_invalid(struct exch_error *err, const char *param, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    exch_set_error(err, 400, EXCH_ERR_INVALID, param, "invalid_argument", "%s", msg);
    return -1;
}

static const char *gstr(const cJSON *o, const char *camel)
{
    const cJSON *v = dlx_get(o, camel);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Google accepts a single value where a repeated field is expected. */
static const cJSON *first_of(const cJSON *v)
{
    return cJSON_IsArray(v) ? v->child : v;
}

#define FOR_EACH_REPEATED(el, v) \
    for (const cJSON *el = first_of(v); el; el = cJSON_IsArray(v) ? el->next : NULL)

static int add_pending(struct gctx *g, struct exch_message *m, int mi, int pi, const char *param, const char *src,
                       const char *mime, bool raw_b64, struct exch_error *err)
{
    if (g->n_pend >= EXCH_MAX_ATTACHMENTS)
        return gem_invalid(err, param, "At most %d inline or file parts per request are supported.",
                           EXCH_MAX_ATTACHMENTS);
    struct pending *q = &g->pend[g->n_pend++];
    q->mi = mi;
    q->pi = pi;
    snprintf(q->param, sizeof(q->param), "%s", param);
    q->src = src;
    q->mime = mime;
    q->raw_b64 = raw_b64;
    m->n_images++;
    return 0;
}

/* inlineData / fileData of content ci, part pi. */
static int media_part(struct gctx *g, struct exch_message *m, int ci, int pi, const cJSON *inl, const cJSON *fd,
                      struct exch_error *err)
{
    char param[64];
    int mi = (int)(m - g->req->msgs);
    if (inl) {
        snprintf(param, sizeof(param), "contents[%d].parts[%d].inline_data", ci, pi);
        const char *data = gstr(inl, "data");
        if (!data)
            return gem_invalid(err, param, "* GenerateContentRequest.%s.data: required field is not set", param);
        return add_pending(g, m, mi, pi, param, data, gstr(inl, "mimeType"), true, err);
    }
    snprintf(param, sizeof(param), "contents[%d].parts[%d].file_data", ci, pi);
    const char *uri = gstr(fd, "fileUri");
    if (!uri)
        return gem_invalid(err, param, "* GenerateContentRequest.%s.file_uri: required field is not set", param);
    if (strncmp(uri, "http://", 7) && strncmp(uri, "https://", 8))
        return gem_invalid(err, param, "Unsupported file_uri '%.80s': only http(s) URLs are fetched.", uri);
    if (strstr(uri, "generativelanguage.googleapis.com/"))
        return gem_invalid(err, param, "Files API uploads are not supported by this gateway; send the file as "
                                       "inline_data.");
    return add_pending(g, m, mi, pi, param, uri, gstr(fd, "mimeType"), false, err);
}

/* The id a functionResponse without one answers: the first unanswered call
 * of that name in the most recent model turn that has one. */
static const char *match_call(const struct exch_request *req, const char *name)
{
    for (size_t i = req->n_msgs; i-- > 0;) {
        const struct exch_message *m = &req->msgs[i];
        for (size_t k = 0; k < m->n_tool_calls; k++) {
            const struct exch_tool_call *c = &m->tool_calls[k];
            if (strcmp(c->name, name))
                continue;
            bool answered = false;
            for (size_t j = i + 1; j < req->n_msgs && !answered; j++)
                answered = req->msgs[j].role == EXCH_TOOL && req->msgs[j].tool_call_id &&
                           !strcmp(req->msgs[j].tool_call_id, c->id);
            if (!answered)
                return c->id;
        }
    }
    return NULL;
}

static int function_response(struct gctx *g, int ci, int pi, const cJSON *fr, struct exch_error *err)
{
    char param[64], gen[48];
    snprintf(param, sizeof(param), "contents[%d].parts[%d].function_response.name", ci, pi);
    const char *name = gstr(fr, "name");
    if (!name || !*name)
        return gem_invalid(err, param, "* GenerateContentRequest.%s: required field is not set", param);
    const char *id = gstr(fr, "id");
    if (!id || !*id)
        id = match_call(g->req, name);
    if (!id) {
        snprintf(gen, sizeof(gen), "gresp_%d_%d", ci, pi);
        id = gen;
    }
    const cJSON *resp = dlx_get(fr, "response");
    char *text = resp ? cJSON_PrintUnformatted(resp) : NULL;
    struct exch_message *m = dlx_push_msg(g->req, EXCH_TOOL, err);
    int rc = -1;
    if (!m)
        goto out;
    if (!(m->tool_call_id = strdup(id)) || !(m->name = strdup(name)) || (resp && !text)) {
        dlx_oom(err);
        goto out;
    }
    m->tool_error = cJSON_IsObject(resp) && cJSON_GetObjectItemCaseSensitive(resp, "error") &&
                    !cJSON_GetObjectItemCaseSensitive(resp, "output");
    rc = text ? dlx_msg_append(m, text, strlen(text), NULL, err) : 0;
out:
    cJSON_free(text);
    return rc;
}

static int function_call(struct exch_message *m, int ci, int pi, const cJSON *fc, struct exch_error *err)
{
    char param[64], gen[48];
    snprintf(param, sizeof(param), "contents[%d].parts[%d].function_call.name", ci, pi);
    const char *name = gstr(fc, "name");
    if (!name || !*name)
        return gem_invalid(err, param, "* GenerateContentRequest.%s: required field is not set", param);
    const char *id = gstr(fc, "id");
    if (!id || !*id) {
        snprintf(gen, sizeof(gen), "gcall_%d_%d", ci, pi);
        id = gen;
    }
    const cJSON *args = dlx_get(fc, "args");
    char *a = cJSON_IsObject(args) ? cJSON_PrintUnformatted(args) : NULL;
    if (cJSON_IsObject(args) && !a)
        return dlx_oom(err);
    int rc = dlx_push_call(m, id, name, a ? a : "{}", err);
    cJSON_free(a);
    return rc;
}

static int parse_content(struct gctx *g, const cJSON *c, int ci, struct exch_error *err)
{
    char param[64];
    snprintf(param, sizeof(param), "contents[%d]", ci);
    if (!cJSON_IsObject(c))
        return gem_invalid(err, param, "Invalid value at '%s': expected a Content object.", param);
    const char *role = gstr(c, "role");
    bool model = role && !strcmp(role, "model");
    if (role && *role && !model && strcmp(role, "user") && strcmp(role, "function") && strcmp(role, "tool"))
        return gem_invalid(err, param, "Please use a valid role: user, model.");
    const cJSON *parts = dlx_get(c, "parts");
    if (!parts || (cJSON_IsArray(parts) && !parts->child))
        return gem_invalid(err, param, "* GenerateContentRequest.%s.parts: contents.parts must not be empty.", param);
    struct exch_message *cur = NULL;   /* the text / media message being filled */
    int pi = -1;
    FOR_EACH_REPEATED(p, parts) {
        pi++;
        snprintf(param, sizeof(param), "contents[%d].parts[%d]", ci, pi);
        if (!cJSON_IsObject(p))
            return gem_invalid(err, param, "Invalid value at '%s': expected a Part object.", param);
        const cJSON *text = dlx_get(p, "text"), *inl = dlx_get(p, "inlineData"), *fd = dlx_get(p, "fileData");
        const cJSON *fc = dlx_get(p, "functionCall"), *fr = dlx_get(p, "functionResponse");
        if (fr) {
            if (model)
                return gem_invalid(err, param, "A function_response part must be in a user turn.");
            cur = NULL;
            if (function_response(g, ci, pi, fr, err) != 0)
                return -1;
            continue;
        }
        if (fc && !model)
            return gem_invalid(err, param, "A function_call part must be in a model turn.");
        if (!cur && (fc || text || inl || fd)) {
            cur = dlx_push_msg(g->req, model ? EXCH_ASSISTANT : EXCH_USER, err);
            if (!cur)
                return -1;
        }
        if (fc) {
            if (function_call(cur, ci, pi, fc, err) != 0)
                return -1;
        } else if (text) {
            if (!cJSON_IsString(text))
                return gem_invalid(err, param, "Invalid value at '%s.text': expected a string.", param);
            if (cJSON_IsTrue(dlx_get(p, "thought")))
                continue;   /* earlier turns' thinking is not sent upstream */
            if (dlx_msg_append(cur, text->valuestring, strlen(text->valuestring), "\n", err) != 0)
                return -1;
        } else if (inl || fd) {
            if (media_part(g, cur, ci, pi, inl, fd, err) != 0)
                return -1;
        } else if (!dlx_get(p, "executableCode") && !dlx_get(p, "codeExecutionResult") &&
                   !dlx_get(p, "thoughtSignature") && !dlx_get(p, "thought")) {
            return gem_invalid(err, param, "Unsupported or empty part at '%s' (text, inline_data, file_data, "
                                           "function_call and function_response are supported).", param);
        }
    }
    return 0;
}

static int parse_system(struct exch_request *req, const cJSON *si, struct exch_error *err)
{
    if (!si || cJSON_IsNull(si))
        return 0;
    struct exch_message *m = dlx_push_msg(req, EXCH_SYSTEM, err);
    if (!m)
        return -1;
    if (cJSON_IsString(si))
        return dlx_msg_append(m, si->valuestring, strlen(si->valuestring), NULL, err);
    FOR_EACH_REPEATED(p, dlx_get(si, "parts")) {
        const char *t = gstr(p, "text");
        if (t && dlx_msg_append(m, t, strlen(t), "\n", err) != 0)
            return -1;
    }
    return 0;
}

/* Google Schema -> JSON Schema for the core's validator: type enums
 * ("OBJECT") lower-cased, recursively. */
static void lower_types(cJSON *s)
{
    for (cJSON *c = s ? s->child : NULL; c; c = c->next) {
        if (c->string && !strcmp(c->string, "type") && cJSON_IsString(c))
            for (char *q = c->valuestring; *q; q++)
                if (*q >= 'A' && *q <= 'Z')
                    *q = (char)(*q - 'A' + 'a');
        if (cJSON_IsObject(c) || cJSON_IsArray(c))
            lower_types(c);
    }
}

static bool name_allowed(const cJSON *allowed, const char *name)
{
    if (!allowed)
        return true;
    FOR_EACH_REPEATED(a, allowed)
        if (cJSON_IsString(a) && !strcmp(a->valuestring, name))
            return true;
    return false;
}

static int parse_tools(struct exch_request *req, const cJSON *root, struct exch_error *err)
{
    const cJSON *fcc = dlx_get(dlx_get(root, "toolConfig"), "functionCallingConfig");
    const char *mode = gstr(fcc, "mode");
    const cJSON *allowed = dlx_get(fcc, "allowedFunctionNames");
    bool any = mode && !strcmp(mode, "ANY");
    if (mode && !any && strcmp(mode, "AUTO") && strcmp(mode, "NONE") && strcmp(mode, "VALIDATED") &&
        strcmp(mode, "MODE_UNSPECIFIED"))
        return gem_invalid(err, "tool_config.function_calling_config.mode",
                           "Invalid value at 'tool_config.function_calling_config.mode' (%.40s): expected AUTO, "
                           "ANY, NONE or VALIDATED.", mode);
    int ti = -1;
    FOR_EACH_REPEATED(t, dlx_get(root, "tools")) {
        ti++;
        if (dlx_get(t, "googleSearch") || dlx_get(t, "googleSearchRetrieval")) {
            req->grounding = true;
            req->model.tools |= TOOLS_SEARCH;
        }
        int fi = -1;
        FOR_EACH_REPEATED(f, dlx_get(t, "functionDeclarations")) {
            fi++;
            const char *name = gstr(f, "name");
            char param[64];
            snprintf(param, sizeof(param), "tools[%d].function_declarations[%d].name", ti, fi);
            if (!name || !*name)
                return gem_invalid(err, param, "* GenerateContentRequest.%s: required field is not set", param);
            if (any && !name_allowed(allowed, name))
                continue;
            const cJSON *js = dlx_get(f, "parametersJsonSchema"), *gs = dlx_get(f, "parameters");
            char *pj = NULL;
            if (cJSON_IsObject(js)) {
                pj = cJSON_PrintUnformatted(js);
            } else if (cJSON_IsObject(gs)) {
                cJSON *copy = cJSON_Duplicate(gs, 1);
                lower_types(copy);
                pj = copy ? cJSON_PrintUnformatted(copy) : NULL;
                cJSON_Delete(copy);
            }
            if ((cJSON_IsObject(js) || cJSON_IsObject(gs)) && !pj)
                return dlx_oom(err);
            int rc = dlx_push_tool(req, name, gstr(f, "description"), pj, err);
            cJSON_free(pj);
            if (rc != 0)
                return -1;
        }
    }
    if (mode && !strcmp(mode, "NONE")) {
        req->tool_choice = EXCH_TOOLS_NONE;
    } else if (any) {
        req->tool_choice = EXCH_TOOLS_REQUIRED;
        if (req->n_tools == 1 && cJSON_IsArray(allowed) && cJSON_GetArraySize(allowed) == 1) {
            req->tool_choice = EXCH_TOOLS_NAMED;
            if (!(req->tool_choice_name = strdup(req->tools[0].name)))
                return dlx_oom(err);
        }
        if (req->n_tools == 0)
            return gem_invalid(err, "tool_config.function_calling_config",
                               "Function calling mode ANY needs at least one declared (and allowed) function.");
    }
    req->parallel_tool_calls = true;
    return 0;
}

static int parse_gen_config(struct exch_request *req, const cJSON *gc, struct exch_error *err)
{
    if (!gc || cJSON_IsNull(gc))
        return 0;
    if (!cJSON_IsObject(gc))
        return gem_invalid(err, "generation_config", "Invalid value at 'generation_config': expected an object.");
    const cJSON *v = dlx_get(gc, "stopSequences");
    if (v) {
        int k = 0;
        FOR_EACH_REPEATED(s, v) {
            if (!cJSON_IsString(s))
                return gem_invalid(err, "generation_config.stop_sequences",
                                   "Invalid value at 'generation_config.stop_sequences': expected strings.");
            if (!*s->valuestring)
                continue;
            if (k >= EXCH_MAX_STOP)
                return gem_invalid(err, "generation_config.stop_sequences",
                                   "At most %d stop sequences are supported by this gateway.", EXCH_MAX_STOP);
            if (!(req->stop[k++] = strdup(s->valuestring)))
                return dlx_oom(err);
        }
    }
    v = dlx_get(gc, "maxOutputTokens");
    if (v && !cJSON_IsNull(v)) {
        if (!dlx_int_in(v, 1, 1e12))
            return gem_invalid(err, "generation_config.max_output_tokens",
                               "max_output_tokens must be a positive integer.");
        req->max_tokens = (int64_t)v->valuedouble;
    }
    v = dlx_get(gc, "candidateCount");
    if (v && !cJSON_IsNull(v) && !(dlx_int_in(v, 0, 1)))
        return gem_invalid(err, "generation_config.candidate_count",
                           "Only candidate_count 1 is supported by this gateway (one answer per request).");
    static const char *const nums[] = {"temperature", "topP", "topK", "presencePenalty", "frequencyPenalty", NULL};
    for (int i = 0; nums[i]; i++) {
        v = dlx_get(gc, nums[i]);
        if (v && !cJSON_IsNull(v) && !cJSON_IsNumber(v))
            return gem_invalid(err, "generation_config", "Invalid value at 'generation_config.%s': expected a number.",
                               nums[i]);
    }
    v = dlx_get(gc, "temperature");
    if (cJSON_IsNumber(v) && (v->valuedouble < 0 || v->valuedouble > 2))
        return gem_invalid(err, "generation_config.temperature", "temperature must be between 0 and 2.");
    const cJSON *tc = dlx_get(gc, "thinkingConfig");
    if (cJSON_IsTrue(dlx_get(tc, "includeThoughts")))
        req->want_reasoning = cfg.thinking != THINKING_DROP;
    FOR_EACH_REPEATED(m, dlx_get(gc, "responseModalities"))
        if (cJSON_IsString(m) && !strcmp(m->valuestring, "IMAGE"))
            req->model.tools |= TOOLS_IMAGE;
    return 0;
}

/* responseMimeType: text/plain (default), application/json (JSON mode: an
 * instruction in the query, fences off the answer), text/x.enum (treated
 * as plain text); anything else is refused like Google does. */
static int parse_json_mode(struct exch_request *req, const cJSON *gc, struct exch_error *err)
{
    const char *mt = gstr(gc, "responseMimeType");
    if (!mt || !strcmp(mt, "text/plain") || !strcmp(mt, "text/x.enum"))
        return 0;
    if (strcmp(mt, "application/json") != 0)
        return gem_invalid(err, "generation_config.response_mime_type",
                           "response_mime_type %.60s is not supported; use text/plain or application/json.", mt);
    struct gem_opts *o = calloc(1, sizeof(*o));
    if (!o)
        return dlx_oom(err);
    o->json = true;
    req->opts = o;
    const cJSON *schema = dlx_get(gc, "responseJsonSchema");
    if (!schema || cJSON_IsNull(schema))
        schema = dlx_get(gc, "responseSchema");
    if (schema && cJSON_IsNull(schema))
        schema = NULL;
    return gem_json_instruct(req, schema, err);
}

int gem_parse_obj(const cJSON *root, const char *path_model, bool stream, struct exch_request *req,
                  struct exch_error *err)
{
    memset(req, 0, sizeof(*req));
    struct gctx g = {.req = req};
    if (!cJSON_IsObject(root))
        return gem_invalid(err, NULL, "Invalid JSON payload received. Expected a JSON object.");
    req->stream = stream;
    req->parallel_tool_calls = true;
    const char *model = path_model;
    if (!model || !*model)
        model = gstr(root, "model");
    if (!model || !*model)
        return gem_invalid(err, "model", "* GenerateContentRequest.model: required field is not set");
    if (!strncmp(model, "models/", 7))
        model += 7;
    if (dlx_get(root, "cachedContent"))
        return gem_invalid(err, "cached_content", "cached_content (context caching) is not supported by this gateway.");
    if (parse_system(req, dlx_get(root, "systemInstruction"), err) != 0)
        goto fail;
    const cJSON *contents = dlx_get(root, "contents");
    if (!contents || (cJSON_IsArray(contents) && !contents->child)) {
        gem_invalid(err, "contents", "* GenerateContentRequest.contents: contents is not specified");
        goto fail;
    }
    if (cJSON_IsArray(contents) && cJSON_GetArraySize(contents) > MAX_CONTENTS) {
        gem_invalid(err, "contents", "At most %d contents are supported.", MAX_CONTENTS);
        goto fail;
    }
    int ci = -1;
    FOR_EACH_REPEATED(c, contents) {
        if (parse_content(&g, c, ++ci, err) != 0)
            goto fail;
    }
    for (size_t i = 0; i < req->n_msgs; i++)
        if (req->msgs[i].role == EXCH_ASSISTANT)
            req->first_new = i + 1;
    if (parse_gen_config(req, dlx_get(root, "generationConfig"), err) != 0 || parse_tools(req, root, err) != 0 ||
        parse_json_mode(req, dlx_get(root, "generationConfig"), err) != 0)
        goto fail;
    for (size_t i = 0; i < g.n_pend; i++) {
        const struct pending *q = &g.pend[i];
        bool image = q->mime && !strncmp(q->mime, "image/", 6);
        if (dlx_attach(req, q->mi, q->pi, q->param, q->src, q->raw_b64, q->mime, NULL, !image, !q->raw_b64,
                       err) != 0)
            goto fail;
    }
    if (!(req->model_req = strdup(model))) {
        dlx_oom(err);
        goto fail;
    }
    unsigned extra = req->model.tools;
    if (models_resolve(model, &req->model) != 0) {
        exch_set_error(err, 404, EXCH_ERR_NOT_FOUND, "model", "model_not_found",
                       "models/%.100s is not found for API version v1beta, or is not supported for "
                       "generateContent. Call ListModels to see the list of available models and their supported "
                       "methods.", model);
        goto fail;
    }
    req->model.tools |= extra;
    req->file_urls = cfg.image_output == IMAGE_OUT_URL;
    return 0;
fail:
    free(req->opts);
    req->opts = NULL;
    exch_request_free(req);
    return -1;
}

int gem_parse(const struct exch_parse_in *in, struct exch_request *req, struct exch_error *err)
{
    memset(req, 0, sizeof(*req));
    memset(err, 0, sizeof(*err));
    cJSON *root = cJSON_ParseWithLength(in->body, in->len);
    int rc = root ? gem_parse_obj(root, in->path_model, in->path_stream, req, err)
                  : gem_invalid(err, NULL, "Invalid JSON payload received.");
    cJSON_Delete(root);
    return rc;
}
