/* xlate.c -- see xlate.h */
#include "xlate.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "gg_buf.h"
#include "xfast.h"

/* Headings Gemini puts at the top of thought summaries (seed filter). */
static const char *const thinking_headings[] = {
    "Assessing the Request", "Generating Response", "Analyzing the Request",
    "Formulating the Response", "Formulating a Response", "Understanding the Request",
    "Considering the Request", "Crafting the Response", "Drafting the Response",
    NULL,
};

bool xlate_fastpath = true;

void xlate_init(struct xlate *x, const struct xlate_sink *sink)
{
    memset(x, 0, sizeof(*x));
    x->sink = *sink;
    const char *env = getenv("XLATE_FASTPATH");
    x->fastpath = xlate_fastpath && !(env && strcmp(env, "0") == 0);
}

bool xlate_is_thinking_heading(const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')) {
        s++;
        n--;
    }
    if (n < 4 || s[0] != '*' || s[1] != '*')
        return false;
    for (int i = 0; thinking_headings[i]; i++) {
        size_t l = strlen(thinking_headings[i]);
        if (n >= l + 4 && memcmp(s + 2, thinking_headings[i], l) == 0 && s[l + 2] == '*' && s[l + 3] == '*')
            return true;
    }
    return false;
}

static bool is_true(const cJSON *j)
{
    return cJSON_IsTrue(j) || (cJSON_IsString(j) && strcmp(j->valuestring, "true") == 0);
}

static const char *str_of(const cJSON *obj, const char *key)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(j) ? j->valuestring : NULL;
}

/* Drop "<ctrl46>..." status lines; emit the rest. */
static void emit_text(struct xlate *x, const char *t, bool thought)
{
    size_t n = strlen(t);
    if (!x->sink.text || n == 0)
        return;
    if (!strstr(t, "<ctrl46>")) {
        x->sink.text(x->sink.ctx, t, n, thought);
        return;
    }
    struct gg_buf b;
    gg_buf_init(&b, n + 1);
    const char *p = t;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
        if (strncmp(p, "<ctrl46>", 8) != 0)
            gg_buf_add(&b, p, len);
        p += len;
    }
    if (b.len)
        x->sink.text(x->sink.ctx, b.p, b.len, thought);
    gg_buf_free(&b);
}

/* One non-empty reply text: thought routing, then emit (both paths). */
static void reply_text(struct xlate *x, const char *text, bool thought)
{
    if (!thought && !x->answer_seen && xlate_is_thinking_heading(text, strlen(text)))
        thought = true;
    if (!thought)
        x->answer_seen = true;
    emit_text(x, text, thought);
}

static void do_reply(struct xlate *x, const cJSON *reply)
{
    const cJSON *gc = cJSON_GetObjectItemCaseSensitive(reply, "groundedContent");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(gc ? gc : reply, "content");
    if (!cJSON_IsObject(content))
        return;
    const char *text = str_of(content, "text");
    if (text && *text)
        reply_text(x, text, is_true(cJSON_GetObjectItemCaseSensitive(content, "thought")));
    const cJSON *file = cJSON_GetObjectItemCaseSensitive(content, "file");
    if (cJSON_IsObject(file) && x->sink.file) {
        const char *id = str_of(file, "fileId");
        if (id && *id)
            x->sink.file(x->sink.ctx, id, str_of(file, "mimeType"), str_of(file, "name"));
    }
}

static void do_skipped(struct xlate *x, const cJSON *answer, const char *state)
{
    struct gg_buf d;
    gg_buf_init(&d, 8192);
    const cJSON *reasons = cJSON_GetObjectItemCaseSensitive(answer, "assistSkippedReasons");
    const cJSON *r;
    cJSON_ArrayForEach(r, reasons) {
        if (cJSON_IsString(r))
            gg_buf_printf(&d, "%s%s", d.len ? ", " : "", r->valuestring);
    }
    const cJSON *cper = cJSON_GetObjectItemCaseSensitive(answer, "customerPolicyEnforcementResult");
    const cJSON *prs = cJSON_GetObjectItemCaseSensitive(cper, "policyResults");
    const cJSON *pr;
    cJSON_ArrayForEach(pr, prs) {
        const cJSON *ma = cJSON_GetObjectItemCaseSensitive(pr, "modelArmorEnforcementResult");
        const char *v = str_of(ma, "modelArmorViolation");
        if (v)
            gg_buf_printf(&d, "%s%s", d.len ? ": " : "", v);
    }
    x->sink.state(x->sink.ctx, state, d.len ? d.p : NULL);
    gg_buf_free(&d);
}

/* The fast path (xfast.c) for the common text-only IN_PROGRESS element:
 * true when it handled the element, with the same sink calls in the same
 * order as below; false leaves everything to cJSON. */
static bool fast_element(struct xlate *x, const char *json, size_t n)
{
    char stackbuf[4096], *buf = stackbuf;
    struct xfast_result r;
    if (n >= sizeof stackbuf && !(buf = malloc(n + 1)))
        return false;
    bool ok = xfast_parse(json, n, buf, buf == stackbuf ? sizeof stackbuf : n + 1, &r);
    if (ok) {
        x->elements++;
        for (size_t i = 0; i < r.ntext; i++)
            reply_text(x, r.text[i].s, r.text[i].thought);
        if (r.session && x->sink.session)
            x->sink.session(x->sink.ctx, r.session);
        if (x->sink.state)
            x->sink.state(x->sink.ctx, "IN_PROGRESS", NULL);
    }
    if (buf != stackbuf)
        free(buf);
    return ok;
}

int xlate_element(struct xlate *x, const char *json, size_t n)
{
    if (x->fastpath && fast_element(x, json, n))
        return 0;
    cJSON *root = cJSON_ParseWithLength(json, n);
    if (!root)
        return -1;
    x->elements++;
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (cJSON_IsObject(err)) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
        if (x->sink.error)
            x->sink.error(x->sink.ctx, cJSON_IsNumber(code) ? code->valueint : 0,
                          str_of(err, "status"), str_of(err, "message"));
        cJSON_Delete(root);
        return 0;
    }
    const cJSON *sar = cJSON_GetObjectItemCaseSensitive(root, "streamAssistResponse");
    const cJSON *answer = cJSON_GetObjectItemCaseSensitive(sar, "answer");
    const cJSON *replies = cJSON_GetObjectItemCaseSensitive(answer, "replies");
    const cJSON *reply;
    cJSON_ArrayForEach(reply, replies)
        do_reply(x, reply);
    const cJSON *si = cJSON_GetObjectItemCaseSensitive(sar, "sessionInfo");
    const char *sess = str_of(si, "session");
    if (sess && *sess && x->sink.session)
        x->sink.session(x->sink.ctx, sess);
    const char *state = str_of(answer, "state");
    if (state && x->sink.state) {
        if (strcmp(state, "SKIPPED") == 0 || strcmp(state, "FAILED") == 0)
            do_skipped(x, answer, state);
        else
            x->sink.state(x->sink.ctx, state, NULL);
    }
    cJSON_Delete(root);
    return 0;
}
