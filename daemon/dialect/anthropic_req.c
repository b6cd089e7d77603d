/* anthropic_req.c -- Anthropic Messages requests: parsing, validation, the
 * messages and their content blocks, count_tokens.  See anthropic.h. */
#include "dialect/anthropic_int.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gg_util.h"
#include "media.h"

#define MAX_MESSAGES 10000
#define TEXT_MAX (64u << 20)

/* Append a message; returns its index or -1 (oom). */
static long push_msg(struct anth_pctx *p, enum exch_role role)
{
    struct exch_request *r = p->req;
    if (r->n_msgs == p->cap_msgs) {
        size_t nc = p->cap_msgs ? p->cap_msgs * 2 : 8;
        struct exch_message *nm = realloc(r->msgs, nc * sizeof(*nm));
        if (!nm)
            return anth_oom(p);
        r->msgs = nm;
        p->cap_msgs = nc;
    }
    struct exch_message *m = &r->msgs[r->n_msgs];
    memset(m, 0, sizeof(*m));
    m->role = role;
    return (long)r->n_msgs++;
}

static int set_text(struct anth_pctx *p, size_t mi, struct gg_buf *text)
{
    free(p->req->msgs[mi].text);
    p->req->msgs[mi].text = strdup(text->p ? text->p : "");
    return p->req->msgs[mi].text ? 0 : anth_oom(p);
}

static int too_large(struct anth_pctx *p, const char *param)
{
    exch_set_error(p->err, 413, EXCH_ERR_TOO_LARGE, param, "request_too_large", "%s: a message is too large.", param);
    return -1;
}

/* Join text parts with a newline. */
static int add_text(struct anth_pctx *p, struct gg_buf *text, const char *s)
{
    if ((text->len && gg_buf_addc(text, '\n') != 0) || gg_buf_adds(text, s) != 0)
        return too_large(p, "messages");
    return 0;
}

/* ---- attachments -------------------------------------------------------- */

static bool in_list(const char *s, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static const char *const image_types[] = {"image/jpeg", "image/png", "image/gif", "image/webp", NULL};

/* One image or document source: base64 (decoded now when `upload`) or url
 * (policy-checked now when `upload`).  `path` is the block's path. */
static int add_att(struct anth_pctx *p, size_t mi, int pi, bool upload, bool is_file, const char *path,
                   const cJSON *src, const char *title)
{
    struct exch_request *r = p->req;
    char param[64], msg[300], mime[128], hint[32];
    snprintf(param, sizeof(param), "%s.source", path);
    if (!cJSON_IsObject(src))
        return anth_want(p, param, "an object", src);
    const char *st, *mt = NULL, *data = NULL, *url = NULL;
    if (anth_str_field(p, src, "type", param, true, &st) != 0)
        return -1;
    if (strcmp(st, "base64") == 0) {
        if (anth_str_field(p, src, "media_type", param, true, &mt) != 0 ||
            anth_str_field(p, src, "data", param, true, &data) != 0)
            return -1;
        snprintf(param, sizeof(param), "%s.source.media_type", path);
        if (!is_file && !in_list(mt, image_types))
            return anth_bad(p, param, "Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'");
        if (is_file && strcmp(mt, "application/pdf") != 0)
            return anth_bad(p, param, "Input should be 'application/pdf'");
    } else if (strcmp(st, "url") == 0) {
        if (anth_str_field(p, src, "url", param, true, &url) != 0)
            return -1;
    } else {
        snprintf(param, sizeof(param), "%s.source.type", path);
        if (strcmp(st, "file") == 0)
            return anth_bad(p, param, "file sources (the Files API) are not supported by this gateway; send base64 or url");
        return anth_bad(p, param, "Input tag '%.40s' found using 'type' does not match any of the expected tags: 'base64', 'url'", st);
    }
    if (r->n_att >= EXCH_MAX_ATTACHMENTS)
        return anth_bad(p, path, "At most %d images and documents per request are supported.", EXCH_MAX_ATTACHMENTS);
    struct exch_attachment *na = realloc(r->att, (r->n_att + 1) * sizeof(*na));
    if (!na)
        return anth_oom(p);
    r->att = na;
    struct exch_attachment *a = &r->att[r->n_att++];
    memset(a, 0, sizeof(*a));
    a->msg_index = (int)mi;
    a->part_index = pi;
    a->upload = upload;
    a->is_file = is_file;
    snprintf(a->param, sizeof(a->param), "%s.source", path);
    r->msgs[mi].n_images++;
    if (title && !(a->filename = strdup(title)))
        return anth_oom(p);
    if (!upload) {
        /* an earlier turn: counted only (an "[image]" marker in the history) */
        if ((mt && !(a->mime = strdup(mt))) || (url && !(a->url = strdup(url))))
            return anth_oom(p);
        return 0;
    }
    if (url) {
        char *norm = NULL;
        snprintf(param, sizeof(param), "%s.source.url", path);
        if (media_url_check(url, cfg.fetch_allow_private, NULL, 0, NULL, &norm, msg, sizeof(msg)) != 0)
            return anth_bad(p, param, "%s", msg);
        a->url = norm;
        return 0;
    }
    /* the declared type names the bytes when sniffing cannot */
    snprintf(hint, sizeof(hint), "file.%s", media_ext(mt));
    int rc = media_decode(data, (size_t)cfg.image_max_bytes, true, hint, &a->data, &a->len, mime,
                          sizeof(mime), msg, sizeof(msg));
    if (rc == MEDIA_NOMEM)
        return anth_oom(p);
    snprintf(param, sizeof(param), "%s.source.data", path);
    if (rc != MEDIA_OK)
        return anth_bad(p, param, "%s", msg);
    if (!(a->mime = strdup(mime)))
        return anth_oom(p);
    return 0;
}

/* ---- content blocks ----------------------------------------------------- */

/* Blocks a client may send back from earlier answers that carry nothing for
 * the upstream: accepted and skipped. */
static const char *const skipped_blocks[] = {
    "thinking", "redacted_thinking", "server_tool_use", "web_search_tool_result",
    "web_fetch_tool_result", "code_execution_tool_result", "bash_code_execution_tool_result",
    "text_editor_code_execution_tool_result", "mcp_tool_use", "mcp_tool_result",
    "container_upload", "tool_search_tool_result", NULL};

/* `content` (at path.content) as a string or a list of text blocks, into text. */
static int text_blocks(struct anth_pctx *p, const cJSON *c, const char *path, struct gg_buf *text)
{
    char param[64];
    const cJSON *e;
    snprintf(param, sizeof(param), "%s.content", path);
    if (cJSON_IsString(c))
        return add_text(p, text, c->valuestring);
    if (!cJSON_IsArray(c))
        return anth_want(p, param, "a valid string or a list of text blocks", c);
    int k = 0;
    cJSON_ArrayForEach(e, c) {
        char ep[64];
        const char *s;
        snprintf(ep, sizeof(ep), "%s.content.%d", path, k++);
        if (!cJSON_IsObject(e))
            return anth_want(p, ep, "a text block", e);
        if (anth_str_field(p, e, "text", ep, true, &s) != 0 || add_text(p, text, s) != 0)
            return -1;
    }
    return 0;
}

/* text / image / document / search_result into (text, attachments of message mi).  Returns
 * 1 when the block is not one of those (the caller decides), 0 or -1. */
static int media_block(struct anth_pctx *p, size_t mi, int pi, bool upload, const char *path,
                       const cJSON *b, const char *t, struct gg_buf *text)
{
    char param[64];
    if (strcmp(t, "text") == 0) {
        const char *s;
        if (anth_str_field(p, b, "text", path, true, &s) != 0)
            return -1;
        return add_text(p, text, s);
    }
    if (strcmp(t, "image") == 0)
        return add_att(p, mi, pi, upload, false, path, anth_get(b, "source"), NULL);
    if (strcmp(t, "search_result") == 0)
        return text_blocks(p, anth_get(b, "content"), path, text);
    if (strcmp(t, "document") != 0)
        return 1;
    const char *title = NULL;
    const cJSON *src = anth_get(b, "source");
    if (anth_str_field(p, b, "title", path, false, &title) != 0)
        return -1;
    const cJSON *st = cJSON_IsObject(src) ? anth_get(src, "type") : NULL;
    if (cJSON_IsString(st) && strcmp(st->valuestring, "text") == 0) {
        /* a plain-text document goes into the message text */
        const char *data;
        snprintf(param, sizeof(param), "%s.source", path);
        if (anth_str_field(p, src, "data", param, true, &data) != 0)
            return -1;
        if (title && add_text(p, text, title) != 0)
            return -1;
        return add_text(p, text, data);
    }
    if (cJSON_IsString(st) && strcmp(st->valuestring, "content") == 0) {
        snprintf(param, sizeof(param), "%s.source", path);
        return text_blocks(p, anth_get(src, "content"), param, text);
    }
    return add_att(p, mi, pi, upload, true, path, src, title);
}

static const char *block_type(struct anth_pctx *p, const cJSON *b, const char *path)
{
    char param[64];
    snprintf(param, sizeof(param), "%s.type", path);
    if (!cJSON_IsObject(b)) {
        anth_want(p, path, "a content block object", b);
        return NULL;
    }
    const cJSON *t = anth_get(b, "type");
    if (!cJSON_IsString(t)) {
        anth_want(p, param, "a valid string", t);
        return NULL;
    }
    return t->valuestring;
}

static int unknown_block(struct anth_pctx *p, const char *path, const char *t, const char *expected)
{
    char param[64];
    snprintf(param, sizeof(param), "%s.type", path);
    return anth_bad(p, param, "Input tag '%.40s' found using 'type' does not match any of the expected tags: %s",
               t, expected);
}

/* The tool_use this result answers, searched in earlier assistant turns. */
static const struct exch_tool_call *find_call(const struct exch_request *r, const char *id)
{
    for (size_t i = r->n_msgs; i-- > 0;)
        for (size_t k = 0; r->msgs[i].role == EXCH_ASSISTANT && k < r->msgs[i].n_tool_calls; k++)
            if (strcmp(r->msgs[i].tool_calls[k].id, id) == 0)
                return &r->msgs[i].tool_calls[k];
    return NULL;
}

static int tool_result(struct anth_pctx *p, int pi, bool upload, const char *path, const cJSON *b)
{
    const char *id;
    char param[64];
    if (anth_str_field(p, b, "tool_use_id", path, true, &id) != 0)
        return -1;
    const struct exch_tool_call *call = find_call(p->req, id);
    snprintf(param, sizeof(param), "%s.tool_use_id", path);
    if (!call)
        return anth_bad(p, param, "unexpected `tool_use_id` found in `tool_result` blocks: %.80s. Each `tool_result` "
                   "block must have a corresponding `tool_use` block in an earlier assistant message.", id);
    const cJSON *ie = anth_get(b, "is_error");
    snprintf(param, sizeof(param), "%s.is_error", path);
    if (anth_present(ie) && !cJSON_IsBool(ie))
        return anth_want(p, param, "a valid boolean", ie);
    long mi = push_msg(p, EXCH_TOOL);
    if (mi < 0)
        return -1;
    struct exch_message *m = &p->req->msgs[mi];
    m->tool_error = cJSON_IsTrue(ie);
    if (!(m->tool_call_id = strdup(id)) || !(m->name = strdup(call->name)))
        return anth_oom(p);
    struct gg_buf text;
    gg_buf_init(&text, TEXT_MAX);
    int rc = 0;
    const cJSON *c = anth_get(b, "content"), *e;
    snprintf(param, sizeof(param), "%s.content", path);
    if (cJSON_IsString(c)) {
        rc = add_text(p, &text, c->valuestring);
    } else if (cJSON_IsArray(c)) {
        int k = 0;
        cJSON_ArrayForEach(e, c) {
            char ep[64];
            snprintf(ep, sizeof(ep), "%s.content.%d", path, k++);
            const char *t = block_type(p, e, ep);
            if (!t || (rc = media_block(p, (size_t)mi, pi, upload, ep, e, t, &text)) < 0) {
                rc = -1;
                break;
            }
            if (rc == 1 && strcmp(t, "tool_reference") != 0) {
                rc = unknown_block(p, ep, t, "'text', 'image', 'document'");
                break;
            }
            rc = 0;
        }
    } else if (anth_present(c)) {
        rc = anth_want(p, param, "a valid string or a list of content blocks", c);
    }
    if (rc == 0)
        rc = set_text(p, (size_t)mi, &text);
    gg_buf_free(&text);
    return rc;
}

static int tool_use(struct anth_pctx *p, size_t mi, const char *path, const cJSON *b)
{
    const char *id, *name;
    char param[64];
    if (anth_str_field(p, b, "id", path, true, &id) != 0 || anth_str_field(p, b, "name", path, true, &name) != 0)
        return -1;
    const cJSON *in = anth_get(b, "input");
    snprintf(param, sizeof(param), "%s.input", path);
    if (anth_present(in) && !cJSON_IsObject(in))
        return anth_want(p, param, "a valid dictionary", in);
    struct exch_message *m = &p->req->msgs[mi];
    struct exch_tool_call *nc = realloc(m->tool_calls, (m->n_tool_calls + 1) * sizeof(*nc));
    if (!nc)
        return anth_oom(p);
    m->tool_calls = nc;
    struct exch_tool_call *c = &nc[m->n_tool_calls++];
    memset(c, 0, sizeof(*c));
    c->id = strdup(id);
    c->name = strdup(name);
    c->args_json = anth_present(in) ? cJSON_PrintUnformatted(in) : strdup("{}");
    return c->id && c->name && c->args_json ? 0 : anth_oom(p);
}

/* One element of the client's messages array (index ci). */
static int parse_message(struct anth_pctx *p, int ci, const cJSON *m)
{
    char path[64], param[64];
    snprintf(path, sizeof(path), "messages.%d", ci);
    if (!cJSON_IsObject(m))
        return anth_want(p, path, "a valid dictionary", m);
    const char *role;
    if (anth_str_field(p, m, "role", path, true, &role) != 0)
        return -1;
    enum exch_role er;
    snprintf(param, sizeof(param), "%s.role", path);
    if (strcmp(role, "user") == 0)
        er = EXCH_USER;
    else if (strcmp(role, "assistant") == 0)
        er = EXCH_ASSISTANT;
    else if (strcmp(role, "system") == 0)
        er = EXCH_SYSTEM;
    else
        return anth_bad(p, param, "Input should be 'user' or 'assistant'");
    const cJSON *content = anth_get(m, "content");
    snprintf(param, sizeof(param), "%s.content", path);
    if (!anth_present(content))
        return anth_want(p, param, "a valid string or a list of content blocks", NULL);
    if (!cJSON_IsString(content) && !cJSON_IsArray(content))
        return anth_want(p, param, "a valid string or a list of content blocks", content);
    bool upload = ci > p->last_asst;
    if (er != EXCH_ASSISTANT && (cJSON_IsString(content) ? !*content->valuestring : !cJSON_GetArraySize(content)))
        return anth_bad(p, path, "all messages must have non-empty content except for the optional final assistant message");
    struct gg_buf text;
    gg_buf_init(&text, TEXT_MAX);
    /* the user/system message is created on first need (a user turn of
     * tool results only has none); an assistant turn always has one */
    long mi = er == EXCH_ASSISTANT || cJSON_IsString(content) ? push_msg(p, er) : -1;
    int rc = 0;
    if (mi < 0 && (er == EXCH_ASSISTANT || cJSON_IsString(content))) {
        rc = -1;
        goto out;
    }
    if (cJSON_IsString(content)) {
        rc = add_text(p, &text, content->valuestring);
        goto out;
    }
    int pi = 0;
    const cJSON *b;
    cJSON_ArrayForEach(b, content) {
        char bp[64];
        snprintf(bp, sizeof(bp), "%s.content.%d", path, pi);
        const char *t = block_type(p, b, bp);
        if (!t) {
            rc = -1;
            goto out;
        }
        if (strcmp(t, "tool_result") == 0 && er == EXCH_USER) {
            if (tool_result(p, pi, upload, bp, b) != 0) {
                rc = -1;
                goto out;
            }
        } else if (in_list(t, skipped_blocks) && er == EXCH_ASSISTANT) {
            /* history the upstream cannot use */
        } else {
            if (mi < 0 && (mi = push_msg(p, er)) < 0) {
                rc = -1;
                goto out;
            }
            if (strcmp(t, "tool_use") == 0 && er == EXCH_ASSISTANT)
                rc = tool_use(p, (size_t)mi, bp, b);
            else if (er == EXCH_ASSISTANT && strcmp(t, "text") != 0)
                rc = unknown_block(p, bp, t, "'text', 'tool_use', 'thinking', 'redacted_thinking'");
            else if ((rc = media_block(p, (size_t)mi, pi, upload, bp, b, t, &text)) == 1)
                rc = unknown_block(p, bp, t, er == EXCH_USER ? "'text', 'image', 'document', 'tool_result'"
                                                            : "'text'");
            if (rc != 0) {
                rc = -1;
                goto out;
            }
        }
        pi++;
    }
out:
    if (rc == 0 && mi >= 0)
        rc = set_text(p, (size_t)mi, &text);
    gg_buf_free(&text);
    return rc;
}

static int parse_messages(struct anth_pctx *p, const cJSON *msgs)
{
    struct exch_request *r = p->req;
    if (!anth_present(msgs) || !cJSON_IsArray(msgs))
        return anth_want(p, "messages", "a valid list", msgs);
    int n = cJSON_GetArraySize(msgs);
    if (n == 0)
        return anth_bad(p, "messages", "at least one message is required");
    if (n > MAX_MESSAGES)
        return anth_bad(p, "messages", "at most %d messages are supported", MAX_MESSAGES);
    int ci = 0;
    const cJSON *m;
    p->last_asst = -1;
    cJSON_ArrayForEach(m, msgs) {
        const cJSON *role = anth_get(m, "role");
        if (cJSON_IsString(role) && strcmp(role->valuestring, "assistant") == 0)
            p->last_asst = ci;
        ci++;
    }
    if (p->last_asst == n - 1) {
        char param[64];
        snprintf(param, sizeof(param), "messages.%d", n - 1);
        return anth_bad(p, param, "a final assistant message (prefill) is not supported by this gateway; "
                   "the last message must be a user message");
    }
    ci = 0;
    size_t first_new = 0;
    cJSON_ArrayForEach(m, msgs) {
        if (ci == p->last_asst + 1)
            first_new = r->n_msgs;
        if (parse_message(p, ci, m) != 0)
            return -1;
        ci++;
    }
    /* no assistant turn yet: everything is new (the system prompt too) */
    r->first_new = p->last_asst < 0 ? 0 : first_new;
    return 0;
}

static int parse_system(struct anth_pctx *p, const cJSON *sys)
{
    if (!anth_present(sys))
        return 0;
    if (!cJSON_IsString(sys) && !cJSON_IsArray(sys))
        return anth_want(p, "system", "a valid string or a list of text blocks", sys);
    struct gg_buf text;
    gg_buf_init(&text, TEXT_MAX);
    int rc = 0, k = 0;
    if (cJSON_IsString(sys)) {
        if (gg_buf_adds(&text, sys->valuestring) != 0)
            rc = too_large(p, "system");
    } else {
        const cJSON *b;
        cJSON_ArrayForEach(b, sys) {
            char bp[64];
            const char *s;
            snprintf(bp, sizeof(bp), "system.%d", k++);
            const char *t = block_type(p, b, bp);
            if (!t || (strcmp(t, "text") != 0 && unknown_block(p, bp, t, "'text'") != 0) ||
                anth_str_field(p, b, "text", bp, true, &s) != 0) {
                rc = -1;
                break;
            }
            if ((text.len && gg_buf_adds(&text, "\n\n") != 0) || gg_buf_adds(&text, s) != 0) {
                rc = too_large(p, "system");
                break;
            }
        }
    }
    if (rc == 0 && text.len) {
        long mi = push_msg(p, EXCH_SYSTEM);
        rc = mi < 0 ? -1 : set_text(p, (size_t)mi, &text);
    }
    gg_buf_free(&text);
    return rc;
}

static int parse(const struct exch_parse_in *in, struct exch_request *req, struct exch_error *err, bool counting)
{
    memset(req, 0, sizeof(*req));
    memset(err, 0, sizeof(*err));
    struct anth_pctx p = {.req = req, .err = err, .last_asst = -1};
    struct anth_opts *o = calloc(1, sizeof(*o));
    cJSON *root = in->body ? cJSON_ParseWithLength(in->body, in->len) : NULL;
    int rc = -1;
    req->parallel_tool_calls = true;
    if (!o) {
        anth_oom(&p);
        goto out;
    }
    req->opts = o;
    if (!cJSON_IsObject(root)) {
        exch_set_error(err, 400, EXCH_ERR_INVALID, NULL, "invalid_json",
                       root ? "The request body must be a JSON object."
                            : "There was an error parsing the body of your request: it is not valid JSON.");
        goto out;
    }
    const char *model;
    if (anth_str_field(&p, root, "model", "", true, &model) != 0)
        goto out;
    const cJSON *mt = anth_get(root, "max_tokens");
    if (!anth_present(mt) && !counting) {
        anth_bad(&p, "max_tokens", "Field required");
        goto out;
    }
    if (anth_present(mt)) {
        if (!anth_int_in(mt, -1e15, 1e15)) {
            anth_want(&p, "max_tokens", "a valid integer", mt);
            goto out;
        }
        if (mt->valuedouble < 1) {
            anth_bad(&p, "max_tokens", "Input should be greater than or equal to 1");
            goto out;
        }
        req->max_tokens = (int64_t)mt->valuedouble;
    }
    const cJSON *stream = anth_get(root, "stream");
    if (anth_present(stream) && !cJSON_IsBool(stream)) {
        anth_want(&p, "stream", "a valid boolean", stream);
        goto out;
    }
    req->stream = cJSON_IsTrue(stream) || in->path_stream;
    req->file_urls = cfg.image_output == IMAGE_OUT_URL;
    const cJSON *meta = anth_get(root, "metadata");
    if (anth_present(meta) && !cJSON_IsObject(meta)) {
        anth_want(&p, "metadata", "a valid dictionary", meta);
        goto out;
    }
    if (parse_system(&p, anth_get(root, "system")) != 0 || parse_messages(&p, anth_get(root, "messages")) != 0 ||
        anth_number_in(&p, root, "temperature", 0, 1, false) != 0 || anth_number_in(&p, root, "top_p", 0, 1, false) != 0 ||
        anth_number_in(&p, root, "top_k", 0, 1e15, true) != 0 || anth_parse_stops(&p, anth_get(root, "stop_sequences")) != 0 ||
        anth_parse_thinking(&p, anth_get(root, "thinking"), o) != 0 || anth_parse_tools(&p, anth_get(root, "tools")) != 0 ||
        anth_parse_tool_choice(&p, anth_get(root, "tool_choice")) != 0)
        goto out;
    if (!(req->model_req = strdup(model))) {
        anth_oom(&p);
        goto out;
    }
    if (models_resolve(model, &req->model) != 0) {
        exch_set_error(err, 404, EXCH_ERR_NOT_FOUND, "model", "model_not_found", "model: %.100s", model);
        goto out;
    }
    if (req->grounding)
        req->model.tools |= TOOLS_SEARCH;
    o->input_tokens = anth_input_tokens(req);
    rc = 0;
out:
    cJSON_Delete(root);
    if (rc != 0) {
        req->opts = NULL;
        exch_request_free(req);
        anth_opts_free(o);
        memset(req, 0, sizeof(*req));
    }
    return rc;
}

int anth_parse(const struct exch_parse_in *in, struct exch_request *req, struct exch_error *err)
{
    return parse(in, req, err, false);
}

int anth_count_tokens(const struct exch_parse_in *in, int64_t *tokens, struct exch_error *err)
{
    struct exch_request req;
    *tokens = 0;
    if (parse(in, &req, err, true) != 0)
        return -1;
    *tokens = ((struct anth_opts *)req.opts)->input_tokens;
    anth_opts_free(req.opts);
    req.opts = NULL;
    exch_request_free(&req);
    return 0;
}

void anth_opts_free(void *opts)
{
    free(opts);
}
