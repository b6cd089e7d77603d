/* gemini_json.c -- JSON mode of the Gemini dialect
 * (generationConfig.responseMimeType "application/json", with or without
 * responseJsonSchema / responseSchema): the instruction added to the
 * current turn, and markdown fences taken off the answer (whole, or while
 * streaming).  See gemini_int.h. */
#include "gemini_int.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "dlx.h"

#define SCHEMA_MAX (32u << 10)   /* schema text quoted in the instruction */

static bool is_ws(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

int gem_json_instruct(struct exch_request *req, const cJSON *schema, struct exch_error *err)
{
    struct exch_message *m = NULL;
    for (size_t i = req->n_msgs; i-- > req->first_new;)
        if (req->msgs[i].role == EXCH_USER) {
            m = &req->msgs[i];
            break;
        }
    if (!m)
        return 0;   /* no user text in this turn (e.g. only function responses) */
    char *s = schema ? cJSON_PrintUnformatted(schema) : NULL;
    if (schema && !s)
        return dlx_oom(err);
    if (s && strlen(s) > SCHEMA_MAX) {
        free(s);
        return gem_invalid(err, "generation_config.response_json_schema",
                           "response_json_schema is too large for this gateway (at most %u bytes).", SCHEMA_MAX);
    }
    struct gg_buf b;
    gg_buf_init(&b, (64u << 20) + 2 * SCHEMA_MAX);
    gg_buf_adds(&b, m->text ? m->text : "");
    gg_buf_adds(&b, "\n\n(Answer with a single JSON value only: no markdown code fence, no text before or after it.");
    if (s) {
        gg_buf_adds(&b, " It must match this JSON schema: ");
        gg_buf_adds(&b, s);
    }
    int rc = gg_buf_adds(&b, ")");
    free(s);
    char *t = rc == 0 ? gg_buf_steal(&b, NULL) : NULL;
    gg_buf_free(&b);
    if (!t)
        return dlx_oom(err);
    free(m->text);
    m->text = t;
    return 0;
}

/* The fenced block's body: after the first "```<tag>\n" up to the next
 * "```"; *n and the returned pointer index into s. */
static const char *fenced(const char *s, size_t len, size_t *n)
{
    const char *open = NULL;
    for (size_t i = 0; i + 3 <= len; i++)
        if (!memcmp(s + i, "```", 3)) {
            open = s + i;
            break;
        }
    if (!open)
        return NULL;
    const char *nl = memchr(open, '\n', (size_t)(s + len - open));
    if (!nl)
        return NULL;
    const char *body = nl + 1;
    for (const char *p = body; p + 3 <= s + len; p++)
        if (!memcmp(p, "```", 3)) {
            *n = (size_t)(p - body);
            return body;
        }
    *n = (size_t)(s + len - body);   /* no closing fence: up to the end */
    return body;
}

void gem_json_whole(const char *s, size_t len, const char **out, size_t *n)
{
    size_t fn;
    const char *f = fenced(s, len, &fn);
    if (f) {
        s = f;
        len = fn;
    }
    while (len && is_ws(*s)) {
        s++;
        len--;
    }
    while (len && is_ws(s[len - 1]))
        len--;
    *out = s;
    *n = len;
}

/* Emit s[0..n) minus a trailing run of whitespace and backticks, which is
 * held (it may be the closing fence). */
static void emit_holding(struct gem_json_filter *f, const char *s, size_t n, struct gg_buf *text)
{
    size_t k = n;
    while (k > 0 && (is_ws(s[k - 1]) || s[k - 1] == '`') && n - k < sizeof(f->hold) - 1)
        k--;
    gg_buf_add(text, s, k);
    memcpy(f->hold, s + k, n - k);
    f->n_hold = n - k;
}

void gem_json_feed(struct gem_json_filter *f, const char *s, size_t n, struct gg_buf *text)
{
    struct gg_buf w;   /* held bytes + the new ones */
    gg_buf_init(&w, n + sizeof(f->hold) + 1);
    gg_buf_add(&w, f->hold, f->n_hold);
    gg_buf_add(&w, s, n);
    f->n_hold = 0;
    const char *p = w.p ? w.p : "";
    size_t len = w.len;
    if (!f->head_done) {
        size_t i = 0;
        while (i < len && is_ws(p[i]))
            i++;
        if (i == len || (len - i < 3 && !memcmp(p + i, "```", len - i))) {
            /* only whitespace, or the start of a fence, so far */
            if (len < sizeof(f->hold)) {
                memcpy(f->hold, p, len);
                f->n_hold = len;
                gg_buf_free(&w);
                return;
            }
        } else if (!memcmp(p + i, "```", 3)) {
            const char *nl = memchr(p + i, '\n', len - i);
            if (!nl && len < sizeof(f->hold)) {
                memcpy(f->hold, p, len);   /* "```json" without its newline yet */
                f->n_hold = len;
                gg_buf_free(&w);
                return;
            }
            if (nl)
                i = (size_t)(nl + 1 - p);
        }
        f->head_done = true;
        p += i;
        len -= i;
    }
    emit_holding(f, p, len, text);
    gg_buf_free(&w);
}

void gem_json_end(struct gem_json_filter *f, struct gg_buf *text)
{
    bool fence = false;
    for (size_t i = 0; i + 3 <= f->n_hold; i++)
        if (!memcmp(f->hold + i, "```", 3))
            fence = true;
    size_t k = f->n_hold;
    if (!fence)   /* trailing whitespace of a JSON answer is not needed either */
        while (k && is_ws(f->hold[k - 1]))
            k--;
    if (!fence && f->head_done)
        gg_buf_add(text, f->hold, k);
    f->n_hold = 0;
}
