/* openai.c -- see openai.h */
#include "openai.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gg_util.h"
#include "media.h"

#define MAX_MESSAGES 10000
#define MAX_ATTACHMENTS 32

void oai_set_error(struct oai_error *e, int status, const char *type, const char *param,
                   const char *code, const char *fmt, ...)
{
    e->status = status;
    e->type = type;
    snprintf(e->param, sizeof(e->param), "%s", param ? param : "");
    e->code = code;
    e->retry_after = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
}

int oai_error_json(const struct oai_error *e, struct gg_buf *out)
{
    int rc = 0;
    char msg[sizeof(e->message)], param[sizeof(e->param)];
    /* messages quote client input and are size-capped: never emit a cut or
     * invalid UTF-8 sequence */
    snprintf(msg, sizeof(msg), "%s", e->message);
    snprintf(param, sizeof(param), "%s", e->param);
    gg_utf8_sanitize(msg);
    gg_utf8_sanitize(param);
    rc |= gg_buf_adds(out, "{\"error\":{\"message\":");
    rc |= gg_buf_add_json_str(out, msg, strlen(msg));
    rc |= gg_buf_adds(out, ",\"type\":");
    rc |= gg_buf_add_json_str(out, e->type, strlen(e->type));
    rc |= gg_buf_adds(out, ",\"param\":");
    if (param[0])
        rc |= gg_buf_add_json_str(out, param, strlen(param));
    else
        rc |= gg_buf_adds(out, "null");
    rc |= gg_buf_adds(out, ",\"code\":");
    if (e->code)
        rc |= gg_buf_add_json_str(out, e->code, strlen(e->code));
    else
        rc |= gg_buf_adds(out, "null");
    rc |= gg_buf_adds(out, "}}");
    return rc ? -1 : 0;
}

static const char *json_type_name(const cJSON *j)
{
    if (cJSON_IsString(j)) return "a string";
    if (cJSON_IsNumber(j)) return "a number";
    if (cJSON_IsBool(j)) return "a boolean";
    if (cJSON_IsArray(j)) return "an array";
    if (cJSON_IsObject(j)) return "an object";
    if (cJSON_IsNull(j)) return "null";
    return "an invalid value";
}

/* True when a JSON number is an integer in [lo, hi] (no float-cast UB). */
static bool json_int_in(const cJSON *j, double lo, double hi)
{
    if (!cJSON_IsNumber(j))
        return false;
    double v = j->valuedouble;
    return v >= lo && v <= hi && v == (double)(long long)v;
}

static int type_error(struct oai_error *err, const char *param, const char *expected, const cJSON *got)
{
    oai_set_error(err, 400, "invalid_request_error", param, "invalid_type",
                  "Invalid type for '%s': expected %s, but got %s instead.", param, expected,
                  json_type_name(got));
    return -1;
}

static void free_message(struct oai_message *m)
{
    free(m->text);
    free(m->name);
}

void oai_chat_free(struct oai_chat *req)
{
    free(req->model_req);
    for (size_t i = 0; i < req->n_msgs; i++)
        free_message(&req->msgs[i]);
    free(req->msgs);
    for (size_t i = 0; i < req->n_att; i++) {
        free(req->att[i].data);
        free(req->att[i].url);
        free(req->att[i].mime);
        free(req->att[i].filename);
    }
    free(req->att);
    for (int i = 0; i < 4; i++)
        free(req->stop[i]);
    memset(req, 0, sizeof(*req));
}

static int add_attachment(struct oai_chat *req, int mi, int pi, const char *url, const char *filename,
                          bool is_file, struct oai_error *err)
{
    char param[64];
    snprintf(param, sizeof(param), "messages[%d].content[%d].%s", mi, pi,
             is_file ? "file.file_data" : "image_url.url");
    if (req->n_att >= MAX_ATTACHMENTS) {
        oai_set_error(err, 400, "invalid_request_error", param, "too_many_attachments",
                      "At most %d attachments per request are supported.", MAX_ATTACHMENTS);
        return -1;
    }
    struct oai_attachment *na = realloc(req->att, (req->n_att + 1) * sizeof(*na));
    if (!na)
        goto oom;
    req->att = na;
    struct oai_attachment *a = &req->att[req->n_att];
    memset(a, 0, sizeof(*a));
    req->n_att++;
    a->msg_index = mi;
    a->part_index = pi;
    a->is_file = is_file;
    a->upload = (size_t)mi >= req->first_new;
    snprintf(a->param, sizeof(a->param), "%s", param);
    a->filename = gg_strdup0(filename);
    if (filename && !a->filename)
        goto oom;
    bool is_data = strncmp(url, "data:", 5) == 0;
    bool is_http = strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
    char msg[300], mime[128];
    if (!a->upload) {
        /* an earlier turn: only its type is kept, for the record */
        if (is_data) {
            const char *comma = strchr(url + 5, ',');
            const char *semi = strchr(url + 5, ';');
            const char *end = semi && (!comma || semi < comma) ? semi : comma;
            if (end && end > url + 5) {
                media_mime_norm(url + 5, (size_t)(end - url - 5), mime, sizeof(mime));
                a->mime = strdup(mime);
            }
        } else if (is_http && !(a->url = strdup(url))) {
            goto oom;
        }
        return 0;
    }
    if (is_http && !is_file) {
        char *norm = NULL;
        if (media_url_check(url, cfg.fetch_allow_private, NULL, 0, NULL, &norm, msg, sizeof(msg)) != 0) {
            oai_set_error(err, 400, "invalid_request_error", param, "invalid_image_url", "%s", msg);
            return -1;
        }
        a->url = norm;
        return 0;
    }
    if (!is_data && !is_file) {
        oai_set_error(err, 400, "invalid_request_error", param, "invalid_image_url",
                      "Invalid image URL: expected a data: URL or an http(s) URL.");
        return -1;
    }
    int rc = media_decode(url, (size_t)cfg.image_max_bytes, is_file, filename, &a->data, &a->len,
                          mime, sizeof(mime), msg, sizeof(msg));
    if (rc == MEDIA_NOMEM)
        goto oom;
    if (rc != MEDIA_OK) {
        oai_set_error(err, 400, "invalid_request_error", param,
                      rc == MEDIA_TOO_LARGE ? "file_too_large" : rc == MEDIA_UNSUPPORTED ? "unsupported_file_type"
                                                                  : "invalid_value", "%s", msg);
        return -1;
    }
    a->mime = strdup(mime);
    if (!a->mime)
        goto oom;
    return 0;
oom:
    oai_set_error(err, 500, "api_error", NULL, NULL, "out of memory");
    return -1;
}

/* Collect the text of a content value (string or array of parts). */
static int parse_content(struct oai_chat *req, int mi, const cJSON *content, struct gg_buf *text,
                         int *n_images, struct oai_error *err)
{
    char param[64];
    if (cJSON_IsString(content))
        return gg_buf_adds(text, content->valuestring) == 0 ? 0 : -1;
    if (cJSON_IsNull(content) || !content)
        return 0;
    if (!cJSON_IsArray(content)) {
        snprintf(param, sizeof(param), "messages[%d].content", mi);
        return type_error(err, param, "a string or an array of content parts", content);
    }
    int pi = 0;
    const cJSON *part;
    cJSON_ArrayForEach(part, content) {
        snprintf(param, sizeof(param), "messages[%d].content[%d]", mi, pi);
        if (!cJSON_IsObject(part))
            return type_error(err, param, "an object", part);
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(part, "type");
        if (!cJSON_IsString(type)) {
            snprintf(param, sizeof(param), "messages[%d].content[%d].type", mi, pi);
            oai_set_error(err, 400, "invalid_request_error", param, "missing_required_parameter",
                          "Missing required parameter: '%s'.", param);
            return -1;
        }
        const char *t = type->valuestring;
        if (strcmp(t, "text") == 0 || strcmp(t, "input_text") == 0) {
            const cJSON *tx = cJSON_GetObjectItemCaseSensitive(part, "text");
            if (!cJSON_IsString(tx)) {
                snprintf(param, sizeof(param), "messages[%d].content[%d].text", mi, pi);
                return type_error(err, param, "a string", tx);
            }
            if (text->len && gg_buf_addc(text, '\n') != 0)
                return -1;
            if (gg_buf_adds(text, tx->valuestring) != 0)
                return -1;
        } else if (strcmp(t, "image_url") == 0) {
            const cJSON *iu = cJSON_GetObjectItemCaseSensitive(part, "image_url");
            const cJSON *url = cJSON_IsObject(iu) ? cJSON_GetObjectItemCaseSensitive(iu, "url") : iu;
            if (!cJSON_IsString(url) || !*url->valuestring) {
                snprintf(param, sizeof(param), "messages[%d].content[%d].image_url", mi, pi);
                oai_set_error(err, 400, "invalid_request_error", param, "invalid_value",
                              "Invalid image_url: expected an object with a 'url' string.");
                return -1;
            }
            const char *u = url->valuestring;
            if (strncmp(u, "data:", 5) != 0 && strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) {
                snprintf(param, sizeof(param), "messages[%d].content[%d].image_url.url", mi, pi);
                oai_set_error(err, 400, "invalid_request_error", param, "invalid_image_url",
                              "Invalid image URL: expected a data: URL or an http(s) URL.");
                return -1;
            }
            (*n_images)++;
            if (add_attachment(req, mi, pi, u, NULL, false, err) != 0)
                return -1;
        } else if (strcmp(t, "file") == 0) {
            const cJSON *f = cJSON_GetObjectItemCaseSensitive(part, "file");
            const cJSON *fd = cJSON_IsObject(f) ? cJSON_GetObjectItemCaseSensitive(f, "file_data") : NULL;
            const cJSON *fn = cJSON_IsObject(f) ? cJSON_GetObjectItemCaseSensitive(f, "filename") : NULL;
            if (!cJSON_IsString(fd)) {
                snprintf(param, sizeof(param), "messages[%d].content[%d].file", mi, pi);
                oai_set_error(err, 400, "invalid_request_error", param, "invalid_value",
                              "Only file parts with inline 'file_data' (a data: URL) are supported.");
                return -1;
            }
            (*n_images)++;
            if (add_attachment(req, mi, pi, fd->valuestring, cJSON_IsString(fn) ? fn->valuestring : NULL,
                               true, err) != 0)
                return -1;
        } else {
            snprintf(param, sizeof(param), "messages[%d].content[%d].type", mi, pi);
            oai_set_error(err, 400, "invalid_request_error", param, "invalid_value",
                          "Unsupported content part type '%.40s' (text, image_url and file are supported).", t);
            return -1;
        }
        pi++;
    }
    return 0;
}

static int parse_messages(const cJSON *msgs, struct oai_chat *req, struct oai_error *err)
{
    if (!msgs) {
        oai_set_error(err, 400, "invalid_request_error", "messages", "missing_required_parameter",
                      "Missing required parameter: 'messages'.");
        return -1;
    }
    if (!cJSON_IsArray(msgs))
        return type_error(err, "messages", "an array", msgs);
    int n = cJSON_GetArraySize(msgs);
    if (n == 0) {
        oai_set_error(err, 400, "invalid_request_error", "messages", "empty_array",
                      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.");
        return -1;
    }
    if (n > MAX_MESSAGES) {
        oai_set_error(err, 400, "invalid_request_error", "messages", "array_above_max_length",
                      "Invalid 'messages': at most %d messages are supported.", MAX_MESSAGES);
        return -1;
    }
    req->msgs = calloc((size_t)n, sizeof(*req->msgs));
    if (!req->msgs) {
        oai_set_error(err, 500, "api_error", NULL, NULL, "out of memory");
        return -1;
    }
    int i = 0;
    const cJSON *m;
    /* the current turn (after the last assistant message) is known before
     * the parts are parsed: only its attachments are decoded */
    cJSON_ArrayForEach(m, msgs) {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        i++;
        if (cJSON_IsString(role) && strcmp(role->valuestring, "assistant") == 0)
            req->first_new = (size_t)i;
    }
    i = 0;
    struct gg_buf text;
    gg_buf_init(&text, 64u << 20);
    cJSON_ArrayForEach(m, msgs) {
        char param[64];
        snprintf(param, sizeof(param), "messages[%d]", i);
        if (!cJSON_IsObject(m)) {
            gg_buf_free(&text);
            return type_error(err, param, "an object", m);
        }
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        snprintf(param, sizeof(param), "messages[%d].role", i);
        if (!cJSON_IsString(role)) {
            gg_buf_free(&text);
            if (!role) {
                oai_set_error(err, 400, "invalid_request_error", param, "missing_required_parameter",
                              "Missing required parameter: '%s'.", param);
                return -1;
            }
            return type_error(err, param, "a string", role);
        }
        const char *r = role->valuestring;
        struct oai_message *om = &req->msgs[i];
        if (strcmp(r, "system") == 0 || strcmp(r, "developer") == 0)
            om->role = ROLE_SYSTEM;
        else if (strcmp(r, "user") == 0)
            om->role = ROLE_USER;
        else if (strcmp(r, "assistant") == 0)
            om->role = ROLE_ASSISTANT;
        else if (strcmp(r, "tool") == 0 || strcmp(r, "function") == 0)
            om->role = ROLE_TOOL;
        else {
            gg_buf_free(&text);
            oai_set_error(err, 400, "invalid_request_error", param, "invalid_value",
                          "Invalid value: '%.40s'. Supported values are: 'system', 'developer', 'user', 'assistant', and 'tool'.", r);
            return -1;
        }
        gg_buf_reset(&text);
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (!content && om->role != ROLE_ASSISTANT) {
            gg_buf_free(&text);
            snprintf(param, sizeof(param), "messages[%d].content", i);
            oai_set_error(err, 400, "invalid_request_error", param, "missing_required_parameter",
                          "Missing required parameter: '%s'.", param);
            return -1;
        }
        req->n_msgs = (size_t)i + 1; /* so oai_chat_free releases what we built */
        if (parse_content(req, i, content, &text, &om->n_images, err) != 0) {
            gg_buf_free(&text);
            if (err->status == 0)
                oai_set_error(err, 413, "invalid_request_error", "messages", "message_too_large",
                              "A message is too large.");
            return -1;
        }
        /* assistant tool calls are kept as text so history stays faithful */
        const cJSON *tcs = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
        const cJSON *tc;
        cJSON_ArrayForEach(tc, tcs) {
            const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tc, "function");
            const cJSON *fname = cJSON_GetObjectItemCaseSensitive(fn, "name");
            const cJSON *fargs = cJSON_GetObjectItemCaseSensitive(fn, "arguments");
            gg_buf_printf(&text, "%s[called tool %s(%s)]", text.len ? "\n" : "",
                          cJSON_IsString(fname) ? fname->valuestring : "?",
                          cJSON_IsString(fargs) ? fargs->valuestring : "");
        }
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
        if (cJSON_IsString(name))
            om->name = strdup(name->valuestring);
        om->text = strdup(text.p ? text.p : "");
        if (!om->text) {
            gg_buf_free(&text);
            oai_set_error(err, 500, "api_error", NULL, NULL, "out of memory");
            return -1;
        }
        i++;
    }
    gg_buf_free(&text);
    req->n_msgs = (size_t)n;
    size_t first_new = 0;
    for (size_t k = 0; k < req->n_msgs; k++)
        if (req->msgs[k].role == ROLE_ASSISTANT)
            first_new = k + 1;
    req->first_new = first_new;
    if (first_new >= req->n_msgs) {
        oai_set_error(err, 400, "invalid_request_error", "messages", "invalid_value",
                      "The last message must be a user, system or tool message, not an assistant message.");
        return -1;
    }
    return 0;
}

int oai_parse_chat(const char *body, size_t n, struct oai_chat *req, struct oai_error *err)
{
    memset(req, 0, sizeof(*req));
    memset(err, 0, sizeof(*err));
    cJSON *root = cJSON_ParseWithLength(body, n);
    int rc = -1;
    if (!root) {
        oai_set_error(err, 400, "invalid_request_error", NULL, "invalid_json",
                      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)");
        goto out;
    }
    if (!cJSON_IsObject(root)) {
        oai_set_error(err, 400, "invalid_request_error", NULL, "invalid_json",
                      "The request body must be a JSON object.");
        goto out;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!model) {
        oai_set_error(err, 400, "invalid_request_error", "model", "missing_required_parameter",
                      "Missing required parameter: 'model'.");
        goto out;
    }
    if (!cJSON_IsString(model)) {
        type_error(err, "model", "a string", model);
        goto out;
    }
    const cJSON *stream = cJSON_GetObjectItemCaseSensitive(root, "stream");
    if (stream && !cJSON_IsNull(stream) && !cJSON_IsBool(stream)) {
        type_error(err, "stream", "a boolean", stream);
        goto out;
    }
    req->stream = cJSON_IsTrue(stream);
    const cJSON *so = cJSON_GetObjectItemCaseSensitive(root, "stream_options");
    if (so && !cJSON_IsNull(so)) {
        if (!cJSON_IsObject(so)) {
            type_error(err, "stream_options", "an object", so);
            goto out;
        }
        const cJSON *iu = cJSON_GetObjectItemCaseSensitive(so, "include_usage");
        if (iu && !cJSON_IsBool(iu)) {
            type_error(err, "stream_options.include_usage", "a boolean", iu);
            goto out;
        }
        if (!req->stream) {
            oai_set_error(err, 400, "invalid_request_error", "stream_options", "invalid_value",
                          "The 'stream_options' parameter is only allowed when 'stream' is enabled.");
            goto out;
        }
        req->include_usage = cJSON_IsTrue(iu);
    }
    const cJSON *nn = cJSON_GetObjectItemCaseSensitive(root, "n");
    if (nn && !cJSON_IsNull(nn)) {
        if (!cJSON_IsNumber(nn) || !json_int_in(nn, -1e15, 1e15)) {
            type_error(err, "n", "an integer", nn);
            goto out;
        }
        if (nn->valueint < 1) {
            oai_set_error(err, 400, "invalid_request_error", "n", "integer_below_min_value",
                          "Invalid 'n': integer below minimum value. Expected a value >= 1, but got %d instead.", nn->valueint);
            goto out;
        }
        if (nn->valueint > 1) {
            oai_set_error(err, 400, "invalid_request_error", "n", "unsupported_value",
                          "Only n=1 is supported by this gateway (Gemini Business returns one answer per request).");
            goto out;
        }
    }
    static const char *const num_params[] = {"temperature", "top_p", "presence_penalty", "frequency_penalty", NULL};
    for (int i = 0; num_params[i]; i++) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, num_params[i]);
        if (p && !cJSON_IsNull(p) && !cJSON_IsNumber(p)) {
            type_error(err, num_params[i], "a number", p);
            goto out;
        }
    }
    const cJSON *temp = cJSON_GetObjectItemCaseSensitive(root, "temperature");
    if (cJSON_IsNumber(temp) && (temp->valuedouble < 0 || temp->valuedouble > 2)) {
        oai_set_error(err, 400, "invalid_request_error", "temperature", "decimal_above_max_value",
                      "Invalid 'temperature': expected a value between 0 and 2.");
        goto out;
    }
    static const char *const int_params[] = {"max_tokens", "max_completion_tokens", NULL};
    for (int i = 0; int_params[i]; i++) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, int_params[i]);
        if (p && !cJSON_IsNull(p)) {
            if (!cJSON_IsNumber(p) || !json_int_in(p, -1e15, 1e15)) {
                type_error(err, int_params[i], "an integer", p);
                goto out;
            }
            if (p->valuedouble < 1) {
                oai_set_error(err, 400, "invalid_request_error", int_params[i], "integer_below_min_value",
                              "Invalid '%s': integer below minimum value. Expected a value >= 1.", int_params[i]);
                goto out;
            }
            req->max_tokens = (int64_t)p->valuedouble;
        }
    }
    const cJSON *stop = cJSON_GetObjectItemCaseSensitive(root, "stop");
    if (stop && !cJSON_IsNull(stop)) {
        if (cJSON_IsString(stop)) {
            if (*stop->valuestring)
                req->stop[0] = strdup(stop->valuestring);
        } else if (cJSON_IsArray(stop)) {
            if (cJSON_GetArraySize(stop) > 4) {
                oai_set_error(err, 400, "invalid_request_error", "stop", "array_above_max_length",
                              "Invalid 'stop': array too long. Expected an array with maximum length 4.");
                goto out;
            }
            int k = 0;
            const cJSON *s;
            cJSON_ArrayForEach(s, stop) {
                if (!cJSON_IsString(s)) {
                    type_error(err, "stop", "a string or an array of strings", stop);
                    goto out;
                }
                if (*s->valuestring)
                    req->stop[k++] = strdup(s->valuestring);
            }
        } else {
            type_error(err, "stop", "a string or an array of strings", stop);
            goto out;
        }
    }
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(root, "tools");
    if (tools && !cJSON_IsNull(tools) && !cJSON_IsArray(tools)) {
        type_error(err, "tools", "an array", tools);
        goto out;
    }
    if (parse_messages(cJSON_GetObjectItemCaseSensitive(root, "messages"), req, err) != 0)
        goto out;
    req->model_req = strdup(model->valuestring);
    if (models_resolve(model->valuestring, &req->model) != 0) {
        char names[512];
        models_names(names, sizeof(names));
        oai_set_error(err, 404, "invalid_request_error", "model", "model_not_found",
                      "The model '%.100s' does not exist or you do not have access to it. Available models: %s.",
                      model->valuestring, names);
        goto out;
    }
    /* web grounding on request: OpenAI's web_search_options (any object) */
    const cJSON *wso = cJSON_GetObjectItemCaseSensitive(root, "web_search_options");
    if (cJSON_IsObject(wso))
        req->model.tools |= TOOLS_SEARCH;
    rc = 0;
out:
    cJSON_Delete(root);
    if (rc != 0)
        oai_chat_free(req);
    return rc;
}

int oai_parse_images(const char *body, size_t n, struct oai_chat *req, bool *want_url, struct oai_error *err)
{
    memset(req, 0, sizeof(*req));
    memset(err, 0, sizeof(*err));
    *want_url = cfg.image_output == IMAGE_OUT_URL;
    int rc = -1;
    cJSON *root = cJSON_ParseWithLength(body, n);
    if (!cJSON_IsObject(root)) {
        oai_set_error(err, 400, "invalid_request_error", NULL, "invalid_json",
                      "We could not parse the JSON body of your request; expected a JSON object.");
        goto out;
    }
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(root, "prompt");
    if (!prompt) {
        oai_set_error(err, 400, "invalid_request_error", "prompt", "missing_required_parameter",
                      "Missing required parameter: 'prompt'.");
        goto out;
    }
    if (!cJSON_IsString(prompt)) {
        type_error(err, "prompt", "a string", prompt);
        goto out;
    }
    if (!*prompt->valuestring) {
        oai_set_error(err, 400, "invalid_request_error", "prompt", "empty_string",
                      "Invalid 'prompt': empty string.");
        goto out;
    }
    const cJSON *nn = cJSON_GetObjectItemCaseSensitive(root, "n");
    if (nn && !cJSON_IsNull(nn)) {
        if (!cJSON_IsNumber(nn) || !json_int_in(nn, -1e15, 1e15)) {
            type_error(err, "n", "an integer", nn);
            goto out;
        }
        if (nn->valueint < 1) {
            oai_set_error(err, 400, "invalid_request_error", "n", "integer_below_min_value",
                          "Invalid 'n': integer below minimum value. Expected a value >= 1.");
            goto out;
        }
        if (nn->valueint > 1) {
            oai_set_error(err, 400, "invalid_request_error", "n", "unsupported_value",
                          "Only n=1 is supported by this gateway; send one request per image.");
            goto out;
        }
    }
    const cJSON *rf = cJSON_GetObjectItemCaseSensitive(root, "response_format");
    if (rf && !cJSON_IsNull(rf)) {
        if (!cJSON_IsString(rf)) {
            type_error(err, "response_format", "a string", rf);
            goto out;
        }
        if (strcmp(rf->valuestring, "url") == 0) {
            *want_url = true;
        } else if (strcmp(rf->valuestring, "b64_json") == 0) {
            *want_url = false;
        } else {
            oai_set_error(err, 400, "invalid_request_error", "response_format", "invalid_value",
                          "Invalid value: '%.40s'. Supported values are: 'url' and 'b64_json'.", rf->valuestring);
            goto out;
        }
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (model && !cJSON_IsNull(model) && !cJSON_IsString(model)) {
        type_error(err, "model", "a string", model);
        goto out;
    }
    const char *mname = cJSON_IsString(model) ? model->valuestring : "gemini-imagen";
    if (strncmp(mname, "dall-e", 6) == 0 || strncmp(mname, "gpt-image", 9) == 0)
        mname = "gemini-imagen";
    req->model_req = strdup(mname);
    if (models_resolve(mname, &req->model) != 0) {
        oai_set_error(err, 404, "invalid_request_error", "model", "model_not_found",
                      "The model '%.100s' does not exist or you do not have access to it.", mname);
        goto out;
    }
    req->model.tools |= TOOLS_IMAGE;
    req->msgs = calloc(1, sizeof(*req->msgs));
    if (!req->msgs || !req->model_req || !(req->msgs[0].text = strdup(prompt->valuestring))) {
        oai_set_error(err, 500, "api_error", NULL, NULL, "out of memory");
        goto out;
    }
    req->n_msgs = 1;
    req->msgs[0].role = ROLE_USER;
    req->first_new = 0;
    rc = 0;
out:
    cJSON_Delete(root);
    if (rc != 0)
        oai_chat_free(req);
    return rc;
}

static const char *role_label(const struct oai_message *m)
{
    switch (m->role) {
    case ROLE_SYSTEM: return "System";
    case ROLE_USER: return "User";
    case ROLE_ASSISTANT: return "Assistant";
    case ROLE_TOOL: return "Tool result";
    }
    return "User";
}

int oai_flatten(const struct oai_chat *req, size_t from, bool include_system, struct gg_buf *out)
{
    size_t nsys = 0, nother = 0;
    const struct oai_message *only = NULL;
    for (size_t i = 0; i < req->n_msgs; i++) {
        const struct oai_message *m = &req->msgs[i];
        if (m->role == ROLE_SYSTEM && (include_system || i >= from))
            nsys++;
        else if (i >= from && m->role != ROLE_SYSTEM) {
            nother++;
            only = m;
        }
    }
    if (nsys == 0 && nother == 1 && only->role == ROLE_USER) {
        int rc = gg_buf_adds(out, only->text);
        for (int k = 0; rc == 0 && k < only->n_images; k++)
            rc = gg_buf_adds(out, k == 0 && !*only->text ? "[image]" : "\n[image]");
        return rc;
    }
    int first = 1;
    for (size_t i = 0; i < req->n_msgs; i++) {
        const struct oai_message *m = &req->msgs[i];
        bool take = i >= from || (include_system && m->role == ROLE_SYSTEM);
        if (!take)
            continue;
        if (!first && gg_buf_adds(out, "\n\n") != 0)
            return -1;
        first = 0;
        if (m->role == ROLE_TOOL && m->name) {
            if (gg_buf_printf(out, "Tool result (%s): ", m->name) != 0)
                return -1;
        } else if (gg_buf_printf(out, "%s: ", role_label(m)) != 0) {
            return -1;
        }
        if (gg_buf_adds(out, m->text) != 0)
            return -1;
        for (int k = 0; k < m->n_images; k++)
            if (gg_buf_adds(out, " [image]") != 0)
                return -1;
    }
    return 0;
}

static void hash_text(EVP_MD_CTX *c, const char *s, size_t n)
{
    while (n > 0 && isspace((unsigned char)*s)) { s++; n--; }
    while (n > 0 && isspace((unsigned char)s[n - 1])) n--;
    EVP_DigestUpdate(c, s, n);
    EVP_DigestUpdate(c, "\0", 1);
}

void oai_conv_key(const char *key_id, const struct oai_chat *req, size_t upto,
                  const char *extra_answer, size_t extra_len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    EVP_DigestUpdate(c, key_id ? key_id : "", strlen(key_id ? key_id : "") + 1);
    for (size_t i = 0; i < upto && i < req->n_msgs; i++) {
        const struct oai_message *m = &req->msgs[i];
        char r = (char)('0' + m->role);
        EVP_DigestUpdate(c, &r, 1);
        hash_text(c, m->text, strlen(m->text));
    }
    if (extra_answer) {
        char r = (char)('0' + ROLE_ASSISTANT);
        EVP_DigestUpdate(c, &r, 1);
        hash_text(c, extra_answer, extra_len);
    }
    EVP_DigestFinal_ex(c, md, &mdlen);
    EVP_MD_CTX_free(c);
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

static int is_cjk(unsigned cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0xAC00 && cp <= 0xD7AF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x2FFFF) ||
           (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFF00 && cp <= 0xFFEF);
}

int64_t oai_estimate_tokens(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    int64_t tokens = 0, alnum_run = 0, punct = 0, other = 0;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (isalnum(c)) {
                alnum_run++;
            } else {
                tokens += (alnum_run + 3) / 4;
                alnum_run = 0;
                if (!isspace(c))
                    punct++;
            }
            i++;
            continue;
        }
        tokens += (alnum_run + 3) / 4;
        alnum_run = 0;
        unsigned cp = 0;
        size_t k = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
        cp = k == 2 ? c & 0x1F : k == 3 ? c & 0x0F : k == 4 ? c & 0x07 : c;
        for (size_t j = 1; j < k && i + j < n; j++)
            cp = cp << 6 | (s[i + j] & 0x3F);
        if (is_cjk(cp))
            tokens++;
        else
            other++;
        i += k;
    }
    tokens += (alnum_run + 3) / 4 + (punct + 1) / 2 + (other + 1) / 2;
    if (tokens == 0 && n > 0)
        tokens = 1;
    return tokens;
}
