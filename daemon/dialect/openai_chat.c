/* openai_chat.c -- see openai_chat.h: the chat-completions request parser
 * and response encoder. */
#include "openai_chat.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gg_util.h"
#include "media.h"

#define MAX_MESSAGES 10000

/* req->opts of a request that asked for stream_options.include_usage */
static const char usage_on = 1;

bool oai_include_usage(const struct exch_request *req)
{
    return req->opts == &usage_on;
}

/* ---- error envelope ------------------------------------------------------ */

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

void oai_err(struct exch_error *e, int status, const char *param, const char *code, const char *fmt, ...)
{
    e->status = status;
    e->kind = exch_kind_of_status(status);
    e->retryable = exch_status_retryable(status);
    snprintf(e->param, sizeof(e->param), "%s", param ? param : "");
    e->code = code;
    e->retry_after = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
}

static const char *type_of_kind(enum exch_err_kind k)
{
    switch (k) {
    case EXCH_ERR_INVALID: case EXCH_ERR_AUTH: case EXCH_ERR_PERMISSION:
    case EXCH_ERR_NOT_FOUND: case EXCH_ERR_TOO_LARGE:
        return "invalid_request_error";
    case EXCH_ERR_RATE_LIMIT:
        return "rate_limit_error";
    default:
        return "api_error";
    }
}

void oai_error_from_exch(const struct exch_error *x, struct oai_error *e)
{
    memset(e, 0, sizeof(*e));
    e->status = x->status;
    e->type = type_of_kind(x->kind);
    snprintf(e->param, sizeof(e->param), "%s", x->param);
    e->code = x->code;
    snprintf(e->message, sizeof(e->message), "%s", x->message);
    e->retry_after = x->retry_after;
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

void oai_error_body(const struct exch_error *x, struct gg_buf *out)
{
    struct oai_error e;
    oai_error_from_exch(x, &e);
    oai_error_json(&e, out);
}

/* ---- request ------------------------------------------------------------- */

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
bool oai_json_int_in(const cJSON *j, double lo, double hi)
{
    if (!cJSON_IsNumber(j))
        return false;
    double v = j->valuedouble;
    return v >= lo && v <= hi && v == (double)(long long)v;
}

int oai_type_error(struct exch_error *err, const char *param, const char *expected, const cJSON *got)
{
    oai_err(err, 400, param, "invalid_type",
                  "Invalid type for '%s': expected %s, but got %s instead.", param, expected,
                  json_type_name(got));
    return -1;
}

static int add_attachment(struct exch_request *req, int mi, int pi, const char *url, const char *filename,
                          bool is_file, struct exch_error *err)
{
    char param[64];
    snprintf(param, sizeof(param), "messages[%d].content[%d].%s", mi, pi,
             is_file ? "file.file_data" : "image_url.url");
    if (req->n_att >= EXCH_MAX_ATTACHMENTS) {
        oai_err(err, 400, param, "too_many_attachments",
                      "At most %d attachments per request are supported.", EXCH_MAX_ATTACHMENTS);
        return -1;
    }
    struct exch_attachment *na = realloc(req->att, (req->n_att + 1) * sizeof(*na));
    if (!na)
        goto oom;
    req->att = na;
    struct exch_attachment *a = &req->att[req->n_att];
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
            if (media_data_header(url, mime, sizeof(mime), NULL, NULL, msg, sizeof(msg)) != MEDIA_OK) {
                oai_err(err, 400, param, "invalid_value", "%s", msg);
                return -1;
            }
            if (mime[0] && !(a->mime = strdup(mime)))
                goto oom;
        } else if (is_http && !(a->url = strdup(url))) {
            goto oom;
        }
        return 0;
    }
    if (is_http && !is_file) {
        char *norm = NULL;
        if (media_url_check(url, cfg.fetch_allow_private, NULL, 0, NULL, &norm, msg, sizeof(msg)) != 0) {
            oai_err(err, 400, param, "invalid_image_url", "%s", msg);
            return -1;
        }
        a->url = norm;
        return 0;
    }
    if (!is_data && !is_file) {
        oai_err(err, 400, param, "invalid_image_url",
                      "Invalid image URL: expected a data: URL or an http(s) URL.");
        return -1;
    }
    int rc = media_decode(url, (size_t)cfg.image_max_bytes, is_file, filename, &a->data, &a->len,
                          mime, sizeof(mime), msg, sizeof(msg));
    if (rc == MEDIA_NOMEM)
        goto oom;
    if (rc != MEDIA_OK) {
        oai_err(err, 400, param,
                      rc == MEDIA_TOO_LARGE ? "file_too_large" : rc == MEDIA_UNSUPPORTED ? "unsupported_file_type"
                                                                  : "invalid_value", "%s", msg);
        return -1;
    }
    a->mime = strdup(mime);
    if (!a->mime)
        goto oom;
    return 0;
oom:
    oai_err(err, 500, NULL, NULL, "out of memory");
    return -1;
}

/* Collect the text of a content value (string or array of parts). */
static int parse_content(struct exch_request *req, int mi, const cJSON *content, struct gg_buf *text,
                         int *n_images, struct exch_error *err)
{
    char param[64];
    if (cJSON_IsString(content))
        return gg_buf_adds(text, content->valuestring) == 0 ? 0 : -1;
    if (cJSON_IsNull(content) || !content)
        return 0;
    if (!cJSON_IsArray(content)) {
        snprintf(param, sizeof(param), "messages[%d].content", mi);
        return oai_type_error(err, param, "a string or an array of content parts", content);
    }
    int pi = 0;
    const cJSON *part;
    cJSON_ArrayForEach(part, content) {
        snprintf(param, sizeof(param), "messages[%d].content[%d]", mi, pi);
        if (!cJSON_IsObject(part))
            return oai_type_error(err, param, "an object", part);
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(part, "type");
        if (!cJSON_IsString(type)) {
            snprintf(param, sizeof(param), "messages[%d].content[%d].type", mi, pi);
            oai_err(err, 400, param, "missing_required_parameter",
                          "Missing required parameter: '%s'.", param);
            return -1;
        }
        const char *t = type->valuestring;
        if (strcmp(t, "text") == 0 || strcmp(t, "input_text") == 0) {
            const cJSON *tx = cJSON_GetObjectItemCaseSensitive(part, "text");
            if (!cJSON_IsString(tx)) {
                snprintf(param, sizeof(param), "messages[%d].content[%d].text", mi, pi);
                return oai_type_error(err, param, "a string", tx);
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
                oai_err(err, 400, param, "invalid_value",
                              "Invalid image_url: expected an object with a 'url' string.");
                return -1;
            }
            const char *u = url->valuestring;
            if (strncmp(u, "data:", 5) != 0 && strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) {
                snprintf(param, sizeof(param), "messages[%d].content[%d].image_url.url", mi, pi);
                oai_err(err, 400, param, "invalid_image_url",
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
                oai_err(err, 400, param, "invalid_value",
                              "Only file parts with inline 'file_data' (a data: URL) are supported.");
                return -1;
            }
            (*n_images)++;
            if (add_attachment(req, mi, pi, fd->valuestring, cJSON_IsString(fn) ? fn->valuestring : NULL,
                               true, err) != 0)
                return -1;
        } else {
            snprintf(param, sizeof(param), "messages[%d].content[%d].type", mi, pi);
            oai_err(err, 400, param, "invalid_value",
                          "Unsupported content part type '%.40s' (text, image_url and file are supported).", t);
            return -1;
        }
        pi++;
    }
    return 0;
}

static int parse_messages(const cJSON *msgs, struct exch_request *req, struct exch_error *err)
{
    if (!msgs) {
        oai_err(err, 400, "messages", "missing_required_parameter",
                      "Missing required parameter: 'messages'.");
        return -1;
    }
    if (!cJSON_IsArray(msgs))
        return oai_type_error(err, "messages", "an array", msgs);
    int n = cJSON_GetArraySize(msgs);
    if (n == 0) {
        oai_err(err, 400, "messages", "empty_array",
                      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.");
        return -1;
    }
    if (n > MAX_MESSAGES) {
        oai_err(err, 400, "messages", "array_above_max_length",
                      "Invalid 'messages': at most %d messages are supported.", MAX_MESSAGES);
        return -1;
    }
    req->msgs = calloc((size_t)n, sizeof(*req->msgs));
    if (!req->msgs) {
        oai_err(err, 500, NULL, NULL, "out of memory");
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
            return oai_type_error(err, param, "an object", m);
        }
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        snprintf(param, sizeof(param), "messages[%d].role", i);
        if (!cJSON_IsString(role)) {
            gg_buf_free(&text);
            if (!role) {
                oai_err(err, 400, param, "missing_required_parameter",
                              "Missing required parameter: '%s'.", param);
                return -1;
            }
            return oai_type_error(err, param, "a string", role);
        }
        const char *r = role->valuestring;
        struct exch_message *om = &req->msgs[i];
        if (strcmp(r, "system") == 0 || strcmp(r, "developer") == 0)
            om->role = EXCH_SYSTEM;
        else if (strcmp(r, "user") == 0)
            om->role = EXCH_USER;
        else if (strcmp(r, "assistant") == 0)
            om->role = EXCH_ASSISTANT;
        else if (strcmp(r, "tool") == 0 || strcmp(r, "function") == 0)
            om->role = EXCH_TOOL;
        else {
            gg_buf_free(&text);
            oai_err(err, 400, param, "invalid_value",
                          "Invalid value: '%.40s'. Supported values are: 'system', 'developer', 'user', 'assistant', and 'tool'.", r);
            return -1;
        }
        gg_buf_reset(&text);
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (!content && om->role != EXCH_ASSISTANT) {
            gg_buf_free(&text);
            snprintf(param, sizeof(param), "messages[%d].content", i);
            oai_err(err, 400, param, "missing_required_parameter",
                          "Missing required parameter: '%s'.", param);
            return -1;
        }
        req->n_msgs = (size_t)i + 1; /* so exch_request_free releases what we built */
        if (parse_content(req, i, content, &text, &om->n_images, err) != 0) {
            gg_buf_free(&text);
            if (err->status == 0)
                oai_err(err, 413, "messages", "message_too_large",
                              "A message is too large.");
            return -1;
        }
        if (oai_parse_msg_tools(m, i, om, err) != 0) {
            gg_buf_free(&text);
            return -1;
        }
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
        if (cJSON_IsString(name) && !(om->name = strdup(name->valuestring))) {
            gg_buf_free(&text);
            oai_err(err, 500, NULL, NULL, "out of memory");
            return -1;
        }
        om->text = strdup(text.p ? text.p : "");
        if (!om->text) {
            gg_buf_free(&text);
            oai_err(err, 500, NULL, NULL, "out of memory");
            return -1;
        }
        i++;
    }
    gg_buf_free(&text);
    req->n_msgs = (size_t)n;
    size_t first_new = 0;
    for (size_t k = 0; k < req->n_msgs; k++)
        if (req->msgs[k].role == EXCH_ASSISTANT)
            first_new = k + 1;
    req->first_new = first_new;
    if (first_new >= req->n_msgs) {
        oai_err(err, 400, "messages", "invalid_value",
                      "The last message must be a user, system or tool message, not an assistant message.");
        return -1;
    }
    return 0;
}

static int parse_chat(const struct exch_parse_in *in, struct exch_request *req, struct exch_error *err)
{
    const char *body = in->body;
    size_t n = in->len;
    memset(req, 0, sizeof(*req));
    memset(err, 0, sizeof(*err));
    cJSON *root = cJSON_ParseWithLength(body, n);
    int rc = -1;
    if (!root) {
        oai_err(err, 400, NULL, "invalid_json",
                      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)");
        goto out;
    }
    if (!cJSON_IsObject(root)) {
        oai_err(err, 400, NULL, "invalid_json",
                      "The request body must be a JSON object.");
        goto out;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!model) {
        oai_err(err, 400, "model", "missing_required_parameter",
                      "Missing required parameter: 'model'.");
        goto out;
    }
    if (!cJSON_IsString(model)) {
        oai_type_error(err, "model", "a string", model);
        goto out;
    }
    const cJSON *stream = cJSON_GetObjectItemCaseSensitive(root, "stream");
    if (stream && !cJSON_IsNull(stream) && !cJSON_IsBool(stream)) {
        oai_type_error(err, "stream", "a boolean", stream);
        goto out;
    }
    req->stream = cJSON_IsTrue(stream);
    const cJSON *so = cJSON_GetObjectItemCaseSensitive(root, "stream_options");
    if (so && !cJSON_IsNull(so)) {
        if (!cJSON_IsObject(so)) {
            oai_type_error(err, "stream_options", "an object", so);
            goto out;
        }
        const cJSON *iu = cJSON_GetObjectItemCaseSensitive(so, "include_usage");
        if (iu && !cJSON_IsBool(iu)) {
            oai_type_error(err, "stream_options.include_usage", "a boolean", iu);
            goto out;
        }
        if (!req->stream) {
            oai_err(err, 400, "stream_options", "invalid_value",
                          "The 'stream_options' parameter is only allowed when 'stream' is enabled.");
            goto out;
        }
        req->opts = cJSON_IsTrue(iu) ? (void *)&usage_on : NULL;
    }
    const cJSON *nn = cJSON_GetObjectItemCaseSensitive(root, "n");
    if (nn && !cJSON_IsNull(nn)) {
        if (!cJSON_IsNumber(nn) || !oai_json_int_in(nn, -1e15, 1e15)) {
            oai_type_error(err, "n", "an integer", nn);
            goto out;
        }
        if (nn->valueint < 1) {
            oai_err(err, 400, "n", "integer_below_min_value",
                          "Invalid 'n': integer below minimum value. Expected a value >= 1, but got %d instead.", nn->valueint);
            goto out;
        }
        if (nn->valueint > 1) {
            oai_err(err, 400, "n", "unsupported_value",
                          "Only n=1 is supported by this gateway (Gemini Business returns one answer per request).");
            goto out;
        }
    }
    static const char *const num_params[] = {"temperature", "top_p", "presence_penalty", "frequency_penalty", NULL};
    for (int i = 0; num_params[i]; i++) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, num_params[i]);
        if (p && !cJSON_IsNull(p) && !cJSON_IsNumber(p)) {
            oai_type_error(err, num_params[i], "a number", p);
            goto out;
        }
    }
    const cJSON *temp = cJSON_GetObjectItemCaseSensitive(root, "temperature");
    if (cJSON_IsNumber(temp) && (temp->valuedouble < 0 || temp->valuedouble > 2)) {
        oai_err(err, 400, "temperature", "decimal_above_max_value",
                      "Invalid 'temperature': expected a value between 0 and 2.");
        goto out;
    }
    static const char *const int_params[] = {"max_tokens", "max_completion_tokens", NULL};
    for (int i = 0; int_params[i]; i++) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, int_params[i]);
        if (p && !cJSON_IsNull(p)) {
            if (!cJSON_IsNumber(p) || !oai_json_int_in(p, -1e15, 1e15)) {
                oai_type_error(err, int_params[i], "an integer", p);
                goto out;
            }
            if (p->valuedouble < 1) {
                oai_err(err, 400, int_params[i], "integer_below_min_value",
                              "Invalid '%s': integer below minimum value. Expected a value >= 1.", int_params[i]);
                goto out;
            }
            req->max_tokens = (int64_t)p->valuedouble;
        }
    }
    const cJSON *stop = cJSON_GetObjectItemCaseSensitive(root, "stop");
    if (stop && !cJSON_IsNull(stop)) {
        if (cJSON_IsString(stop)) {
            if (*stop->valuestring && !(req->stop[0] = strdup(stop->valuestring)))
                goto oom;
        } else if (cJSON_IsArray(stop)) {
            if (cJSON_GetArraySize(stop) > 4) {
                oai_err(err, 400, "stop", "array_above_max_length",
                              "Invalid 'stop': array too long. Expected an array with maximum length 4.");
                goto out;
            }
            int k = 0;
            const cJSON *s;
            cJSON_ArrayForEach(s, stop) {
                if (!cJSON_IsString(s)) {
                    oai_type_error(err, "stop", "a string or an array of strings", stop);
                    goto out;
                }
                if (*s->valuestring && !(req->stop[k++] = strdup(s->valuestring)))
                    goto oom;
            }
        } else {
            oai_type_error(err, "stop", "a string or an array of strings", stop);
            goto out;
        }
    }
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(root, "tools");
    if (tools && !cJSON_IsNull(tools) && !cJSON_IsArray(tools)) {
        oai_type_error(err, "tools", "an array", tools);
        goto out;
    }
    if (oai_parse_tools(root, req, err) != 0)
        goto out;
    if (parse_messages(cJSON_GetObjectItemCaseSensitive(root, "messages"), req, err) != 0)
        goto out;
    if (!(req->model_req = strdup(model->valuestring)))
        goto oom;
    if (models_resolve(model->valuestring, &req->model) != 0) {
        char names[512];
        models_names(names, sizeof(names));
        oai_err(err, 404, "model", "model_not_found",
                      "The model '%.100s' does not exist or you do not have access to it. Available models: %s.",
                      model->valuestring, names);
        goto out;
    }
    /* web grounding on request: OpenAI's web_search_options (any object) */
    const cJSON *wso = cJSON_GetObjectItemCaseSensitive(root, "web_search_options");
    if (cJSON_IsObject(wso))
        req->model.tools |= TOOLS_SEARCH;
    req->want_reasoning = cfg.thinking != THINKING_DROP;
    req->file_urls = cfg.image_output == IMAGE_OUT_URL;
    rc = 0;
    goto out;
oom:
    oai_err(err, 500, NULL, NULL, "out of memory");
out:
    cJSON_Delete(root);
    if (rc != 0)
        exch_request_free(req);
    return rc;
}


int oai_parse_chat(const char *body, size_t n, struct exch_request *req, struct oai_error *err)
{
    struct exch_parse_in in = {.body = body, .len = n};
    struct exch_error xe;
    memset(&xe, 0, sizeof(xe));
    int rc = parse_chat(&in, req, &xe);
    memset(err, 0, sizeof(*err));
    if (rc != 0)
        oai_error_from_exch(&xe, err);
    return rc;
}

/* ---- response ------------------------------------------------------------ */

#define LIT(b, s) gg_buf_add((b), (s), sizeof(s) - 1)
#define CHUNK_PFX_MAX 320

struct oai_state {
    bool fresh;     /* the role chunk went out and no delta since */
    bool pfx_big;   /* the chunk prefix did not fit pfx: formatted each time */
    size_t pfx_len; /* 0 = not built yet */
    char pfx[CHUNK_PFX_MAX];    /* "data: {...,\"choices\":[", built once per stream */
};

/* The fixed head of every chunk: formatted once, then copied. */
static void chunk_begin(const struct exch_ctx *x, struct gg_buf *b)
{
    struct oai_state *st = x->state;
    if (st->pfx_len == 0 && !st->pfx_big) {
        int k = snprintf(st->pfx, sizeof(st->pfx), "data: {\"id\":\"%s\",\"object\":\"chat.completion.chunk\","
                         "\"created\":%lld,\"model\":\"%s\",\"system_fingerprint\":null,\"choices\":[",
                         x->id, (long long)x->created_s, x->model);
        if (k > 0 && (size_t)k < sizeof(st->pfx))
            st->pfx_len = (size_t)k;
        else
            st->pfx_big = true;
    }
    if (st->pfx_len) {
        gg_buf_add(b, st->pfx, st->pfx_len);
        return;
    }
    gg_buf_printf(b, "data: {\"id\":\"%s\",\"object\":\"chat.completion.chunk\",\"created\":%lld,"
                  "\"model\":\"%s\",\"system_fingerprint\":null,\"choices\":[",
                  x->id, (long long)x->created_s, x->model);
}

static void chunk_end(const struct exch_ctx *x, struct gg_buf *b)
{
    if (oai_include_usage(x->req))
        LIT(b, "],\"usage\":null}\n\n");
    else
        LIT(b, "]}\n\n");
}

/* `head` opens the delta object up to the string: {"index":0,"delta":{"FIELD": */
static void delta(const struct exch_ctx *x, const char *head, size_t head_len, const char *s, size_t n,
                  struct gg_buf *b)
{
    chunk_begin(x, b);
    gg_buf_add(b, head, head_len);
    gg_buf_add_json_str(b, s, n);
    if (oai_include_usage(x->req))
        LIT(b, "},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n");
    else
        LIT(b, "},\"logprobs\":null,\"finish_reason\":null}]}\n\n");
}

#define DELTA_CONTENT "{\"index\":0,\"delta\":{\"content\":"
#define DELTA_REASONING "{\"index\":0,\"delta\":{\"reasoning_content\":"

static void oai_begin(struct exch_ctx *x, struct gg_buf *out)
{
    struct oai_state *st = x->state;
    chunk_begin(x, out);
    gg_buf_adds(out, "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}");
    chunk_end(x, out);
    st->fresh = true;
}

static void oai_event(struct exch_ctx *x, const struct exch_event *ev, struct gg_buf *out)
{
    struct oai_state *st = x->state;
    if (ev->kind == EXCH_EV_REASONING)
        delta(x, DELTA_REASONING, sizeof(DELTA_REASONING) - 1, ev->text, ev->len, out);
    else if (ev->kind == EXCH_EV_TEXT)
        delta(x, DELTA_CONTENT, sizeof(DELTA_CONTENT) - 1, ev->text, ev->len, out);
    else if (ev->kind == EXCH_EV_TOOL_CALL_BEGIN || (ev->kind == EXCH_EV_TOOL_CALL_ARGS && ev->len)) {
        chunk_begin(x, out);
        gg_buf_adds(out, "{\"index\":0,\"delta\":");
        oai_tool_delta(ev, out);
        gg_buf_adds(out, ",\"logprobs\":null,\"finish_reason\":null}");
        chunk_end(x, out);
    } else
        return;     /* files arrive as markdown text too; the rest is not offered yet */
    st->fresh = false;
}

static const char *finish_reason(enum exch_finish f)
{
    switch (f) {
    case EXCH_FIN_LENGTH: return "length";
    case EXCH_FIN_CONTENT_FILTER: return "content_filter";
    case EXCH_FIN_TOOL_CALLS: return "tool_calls";
    default: return "stop";
    }
}

static void usage_json(const struct exch_usage *u, struct gg_buf *b)
{
    gg_buf_printf(b, "{\"prompt_tokens\":%lld,\"completion_tokens\":%lld,\"total_tokens\":%lld,"
                  "\"prompt_tokens_details\":{\"cached_tokens\":0},"
                  "\"completion_tokens_details\":{\"reasoning_tokens\":%lld}}",
                  (long long)u->prompt_tokens, (long long)u->completion_tokens,
                  (long long)(u->prompt_tokens + u->completion_tokens), (long long)u->reasoning_tokens);
}

static void oai_finish(struct exch_ctx *x, const struct exch_result *res, struct gg_buf *out)
{
    struct oai_state *st = x->state;
    if (x->req->stream) {
        if (st->fresh)
            delta(x, DELTA_CONTENT, sizeof(DELTA_CONTENT) - 1, "", 0, out);
        chunk_begin(x, out);
        gg_buf_printf(out, "{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"%s\"}",
                      finish_reason(res->finish));
        chunk_end(x, out);
        if (oai_include_usage(x->req)) {
            gg_buf_printf(out, "data: {\"id\":\"%s\",\"object\":\"chat.completion.chunk\",\"created\":%lld,"
                          "\"model\":\"%s\",\"system_fingerprint\":null,\"choices\":[],\"usage\":",
                          x->id, (long long)x->created_s, x->model);
            usage_json(&res->usage, out);
            gg_buf_adds(out, "}\n\n");
        }
        gg_buf_adds(out, "data: [DONE]\n\n");
        return;
    }
    gg_buf_printf(out, "{\"id\":\"%s\",\"object\":\"chat.completion\",\"created\":%lld,\"model\":\"%s\","
                  "\"system_fingerprint\":null,\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":",
                  x->id, (long long)x->created_s, x->model);
    size_t tl = res->text_len;
    while (res->n_calls && tl && strchr(" \t\r\n", res->text[tl - 1]))
        tl--;       /* the text before the calls, without the gap */
    if (res->n_calls && tl == 0)
        gg_buf_adds(out, "null");
    else
        gg_buf_add_json_str(out, res->text ? res->text : "", tl);
    if (res->n_calls)
        oai_tool_calls_json(res, out);
    if (res->reasoning_len) {
        gg_buf_adds(out, ",\"reasoning_content\":");
        gg_buf_add_json_str(out, res->reasoning, res->reasoning_len);
    }
    gg_buf_printf(out, ",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"%s\"}],\"usage\":",
                  finish_reason(res->finish));
    usage_json(&res->usage, out);
    gg_buf_adds(out, "}");
}

static void oai_fail(struct exch_ctx *x, const struct exch_error *e, struct gg_buf *out)
{
    (void)x;
    gg_buf_adds(out, "data: ");
    oai_error_body(e, out);
    gg_buf_adds(out, "\n\n");
}

static void no_opts_free(void *opts)
{
    (void)opts;     /* opts is NULL or &usage_on */
}

const struct exch_dialect dialect_openai_chat = {
    .name = "openai",
    .state_size = sizeof(struct oai_state),
    .stream_ctype = "text/event-stream; charset=utf-8",
    .ping = ": ping\n\n",
    .id_prefix = "chatcmpl-",
    .parse = parse_chat,
    .opts_free = no_opts_free,
    .begin = oai_begin,
    .event = oai_event,
    .finish = oai_finish,
    .fail = oai_fail,
    .error_body = oai_error_body,
};
