/* dlx.c -- see dlx.h */
#include "dlx.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gg_util.h"
#include "media.h"

const char *dlx_json_type(const cJSON *j)
{
    if (!j) return "nothing";
    if (cJSON_IsString(j)) return "a string";
    if (cJSON_IsNumber(j)) return "a number";
    if (cJSON_IsBool(j)) return "a boolean";
    if (cJSON_IsArray(j)) return "an array";
    if (cJSON_IsObject(j)) return "an object";
    if (cJSON_IsNull(j)) return "null";
    return "an invalid value";
}

int dlx_type_error(struct exch_error *err, const char *param, const char *expected, const cJSON *got)
{
    exch_set_error(err, 400, EXCH_ERR_INVALID, param, "invalid_type",
                   "Invalid type for '%s': expected %s, but got %s instead.", param, expected,
                   dlx_json_type(got));
    return -1;
}

int dlx_missing(struct exch_error *err, const char *param)
{
    exch_set_error(err, 400, EXCH_ERR_INVALID, param, "missing_required_parameter",
                   "Missing required parameter: '%s'.", param);
    return -1;
}

int dlx_oom(struct exch_error *err)
{
    exch_set_error(err, 500, EXCH_ERR_SERVER, NULL, NULL, "out of memory");
    return -1;
}

bool dlx_int_in(const cJSON *j, double lo, double hi)
{
    if (!cJSON_IsNumber(j))
        return false;
    double v = j->valuedouble;
    return v >= lo && v <= hi && v == (double)(long long)v;
}

const cJSON *dlx_get(const cJSON *obj, const char *camel)
{
    if (!cJSON_IsObject(obj))
        return NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, camel);
    if (v)
        return v;
    char snake[96];
    size_t o = 0;
    for (const char *p = camel; *p && o + 2 < sizeof(snake); p++) {
        if (*p >= 'A' && *p <= 'Z') {
            snake[o++] = '_';
            snake[o++] = (char)(*p - 'A' + 'a');
        } else {
            snake[o++] = *p;
        }
    }
    snake[o] = '\0';
    return strcmp(snake, camel) ? cJSON_GetObjectItemCaseSensitive(obj, snake) : NULL;
}

struct exch_message *dlx_push_msg(struct exch_request *req, enum exch_role role, struct exch_error *err)
{
    size_t n = req->n_msgs;
    /* capacity is the next power of two >= n (at least 8): grow when full */
    if (n == 0 || (n >= 8 && (n & (n - 1)) == 0)) {
        size_t cap = n == 0 ? 8 : n * 2;
        struct exch_message *nm = realloc(req->msgs, cap * sizeof(*nm));
        if (!nm) {
            dlx_oom(err);
            return NULL;
        }
        req->msgs = nm;
    }
    struct exch_message *m = &req->msgs[n];
    memset(m, 0, sizeof(*m));
    m->role = role;
    if (!(m->text = strdup(""))) {
        dlx_oom(err);
        return NULL;
    }
    req->n_msgs = n + 1;
    return m;
}

int dlx_msg_append(struct exch_message *m, const char *s, size_t n, const char *sep, struct exch_error *err)
{
    size_t have = strlen(m->text);
    size_t sl = have && sep ? strlen(sep) : 0;
    if (n > (64u << 20) || have > (256u << 20)) {
        exch_set_error(err, 413, EXCH_ERR_TOO_LARGE, NULL, "message_too_large", "A message is too large.");
        return -1;
    }
    char *t = realloc(m->text, have + sl + n + 1);
    if (!t)
        return dlx_oom(err);
    memcpy(t + have, sep ? sep : "", sl);
    memcpy(t + have + sl, s, n);
    t[have + sl + n] = '\0';
    m->text = t;
    return 0;
}

int dlx_push_call(struct exch_message *m, const char *id, const char *name, const char *args_json,
                  struct exch_error *err)
{
    struct exch_tool_call *nc = realloc(m->tool_calls, (m->n_tool_calls + 1) * sizeof(*nc));
    if (!nc)
        return dlx_oom(err);
    m->tool_calls = nc;
    struct exch_tool_call *c = &nc[m->n_tool_calls];
    c->id = strdup(id);
    c->name = strdup(name);
    c->args_json = strdup(args_json && *args_json ? args_json : "{}");
    m->n_tool_calls++;
    if (!c->id || !c->name || !c->args_json)
        return dlx_oom(err);
    return 0;
}

int dlx_push_tool(struct exch_request *req, const char *name, const char *desc, const char *params_json,
                  struct exch_error *err)
{
    if (req->n_tools >= EXCH_MAX_TOOLS) {
        exch_set_error(err, 400, EXCH_ERR_INVALID, "tools", "array_above_max_length",
                       "At most %d tools per request are supported.", EXCH_MAX_TOOLS);
        return -1;
    }
    struct exch_tool *nt = realloc(req->tools, (req->n_tools + 1) * sizeof(*nt));
    if (!nt)
        return dlx_oom(err);
    req->tools = nt;
    struct exch_tool *t = &nt[req->n_tools++];
    t->name = strdup(name);
    t->description = gg_strdup0(desc);
    t->params_json = gg_strdup0(params_json);
    if (!t->name || (desc && !t->description) || (params_json && !t->params_json))
        return dlx_oom(err);
    return 0;
}

static const char *code_of(int rc)
{
    return rc == MEDIA_TOO_LARGE ? "file_too_large" : rc == MEDIA_UNSUPPORTED ? "unsupported_file_type"
                                                                              : "invalid_value";
}

int dlx_attach(struct exch_request *req, int mi, int pi, const char *param, const char *src, bool raw_b64,
               const char *mime_hint, const char *filename, bool is_file, bool allow_http,
               struct exch_error *err)
{
    if (req->n_att >= EXCH_MAX_ATTACHMENTS) {
        exch_set_error(err, 400, EXCH_ERR_INVALID, param, "too_many_attachments",
                       "At most %d attachments per request are supported.", EXCH_MAX_ATTACHMENTS);
        return -1;
    }
    struct exch_attachment *na = realloc(req->att, (req->n_att + 1) * sizeof(*na));
    if (!na)
        return dlx_oom(err);
    req->att = na;
    struct exch_attachment *a = &na[req->n_att++];
    memset(a, 0, sizeof(*a));
    a->msg_index = mi;
    a->part_index = pi;
    a->is_file = is_file;
    a->upload = (size_t)mi >= req->first_new;
    snprintf(a->param, sizeof(a->param), "%s", param);
    if (filename && !(a->filename = strdup(filename)))
        return dlx_oom(err);
    bool is_data = strncmp(src, "data:", 5) == 0;
    bool is_http = strncmp(src, "http://", 7) == 0 || strncmp(src, "https://", 8) == 0;
    char msg[300], mime[128] = "";
    if (mime_hint)
        media_mime_norm(mime_hint, strlen(mime_hint), mime, sizeof(mime));
    if (!a->upload) {
        /* an earlier turn: only its type (and URL) are kept, for the record */
        if (is_data) {
            const char *comma = strchr(src + 5, ',');
            const char *semi = strchr(src + 5, ';');
            const char *end = semi && (!comma || semi < comma) ? semi : comma;
            if (end && end > src + 5)
                media_mime_norm(src + 5, (size_t)(end - src - 5), mime, sizeof(mime));
        } else if (is_http && !(a->url = strdup(src))) {
            return dlx_oom(err);
        }
        if (*mime && !(a->mime = strdup(mime)))
            return dlx_oom(err);
        return 0;
    }
    if (is_http) {
        char *norm = NULL;
        if (!allow_http) {
            exch_set_error(err, 400, EXCH_ERR_INVALID, param, "invalid_value",
                           "Only inline data is supported here, not a URL.");
            return -1;
        }
        if (media_url_check(src, cfg.fetch_allow_private, NULL, 0, NULL, &norm, msg, sizeof(msg)) != 0) {
            exch_set_error(err, 400, EXCH_ERR_INVALID, param, "invalid_image_url", "%s", msg);
            return -1;
        }
        a->url = norm;
        if (*mime && media_mime_allowed(mime) && !(a->mime = strdup(mime)))
            return dlx_oom(err);
        return 0;
    }
    if (!is_data && !raw_b64) {
        exch_set_error(err, 400, EXCH_ERR_INVALID, param, "invalid_image_url",
                       allow_http ? "Invalid URL: expected a data: URL or an http(s) URL."
                                  : "Invalid file data: expected a data: URL.");
        return -1;
    }
    /* bare base64: the declared type becomes a file-name hint for when
     * sniffing finds nothing (text, office documents) */
    char hint[64];
    const char *name_hint = filename;
    if (!name_hint && *mime) {
        snprintf(hint, sizeof(hint), "inline.%s", media_ext(mime));
        name_hint = hint;
    }
    char dmime[128];
    int rc = media_decode(src, (size_t)cfg.image_max_bytes, raw_b64 && !is_data, name_hint, &a->data, &a->len,
                          dmime, sizeof(dmime), msg, sizeof(msg));
    if (rc == MEDIA_NOMEM)
        return dlx_oom(err);
    if (rc != MEDIA_OK) {
        exch_set_error(err, 400, EXCH_ERR_INVALID, param, code_of(rc), "%s", msg);
        return -1;
    }
    if (!(a->mime = strdup(dmime)))
        return dlx_oom(err);
    return 0;
}
